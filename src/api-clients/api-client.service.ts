import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Limits } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import { hasForbiddenCharacters, normalizeText } from "../format/normalize.js";
import { addressKey } from "../http/client-address.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import { refusal, success, type Outcome } from "../result.js";
import type { LoginNameHash } from "../security/keyed-hash.js";
import type { AttemptThrottle, Escalation, ThrottleKey } from "../throttling/attempt-throttle.js";
import { auditEscalations } from "../throttling/lockout.service.js";
import type { ApiClient, ApiClientRepository } from "./api-client.repository.js";

/** What `api-client add` and `rotate-secret` print once: the secret is never stored or shown again. */
export type IssuedCredentials = { client: ApiClient; clientSecret: string };

export type Authentication =
  | { ok: true; client: ApiClient }
  | { ok: false; reason: "invalid-client" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

const CLIENT_ID = /^kc_[A-Za-z0-9_-]{22}$/;

/** SHA-256 of the secret: 256 random bits need no slow hash, and the token endpoint stays cheap. */
const hashSecret = (secret: string) => createHash("sha256").update(secret, "utf8").digest("hex");
// Compared against for an unknown client id, so that it costs the same as a known one.
const DUMMY_HASH = hashSecret(randomBytes(32).toString("base64url"));

/**
 * API clients: an orderer's own systems (OAuth 2.0 client credentials, one orderer each). The
 * admin CLI adds, lists, disables, enables them and rotates their secrets; the token endpoint
 * authenticates them. Failures count per client address only (an IPv6 address by its /64): a
 * secret of 256 random bits cannot be guessed, so a counter per client id would protect nothing
 * and only let anyone who knows the id (it is no secret) lock the orderer's system out.
 */
export function createApiClientService(deps: {
  apiClients: ApiClientRepository; orderers: OrdererRepository; attempts: AttemptThrottle; limits: Pick<Limits, "address">;
  tx: Transactions; clock: Clock; audit: AuditService; loginNames: LoginNameHash;
}) {
  const { apiClients, orderers, attempts, limits, tx, clock, audit, loginNames } = deps;
  const adminRecord = (event: string, actor: string, client: ApiClient, detail?: Record<string, unknown>) =>
    audit.appendInTransaction({
      event, outcome: "ok", actorKind: "admin", actor, ordererCode: client.ordererCode,
      detail: { clientId: client.clientId, name: client.name, ...detail },
    });

  const add = tx.transaction((input: { ordererId: number; name: string; secretHash: string }, actor: string) => {
    const clientId = `kc_${randomBytes(16).toString("base64url")}`;
    apiClients.insert({ clientId, ...input, at: clock.now().toISOString() });
    const client = apiClients.findByClientId(clientId)!;
    adminRecord("api_client_add", actor, client);
    return client;
  });
  const setActive = tx.transaction((client: ApiClient, active: boolean, actor: string) => {
    apiClients.setActive(client.clientId, active);
    adminRecord(active ? "api_client_enable" : "api_client_disable", actor, client);
  });
  const rotate = tx.transaction((client: ApiClient, secretHash: string, actor: string) => {
    apiClients.setSecret(client.clientId, secretHash, clock.now().toISOString());
    adminRecord("api_client_rotate_secret", actor, client);
  });
  const recordSuccess = tx.transaction((client: ApiClient, clientAddress: string, settle: () => void) => {
    settle();
    audit.appendInTransaction({
      event: "api_token_issue", outcome: "ok", actorKind: "api-client", actor: client.clientId, ordererCode: client.ordererCode, clientAddress,
    });
  });
  // A submitted id that names no client may be a secret pasted into the wrong field: it is kept
  // only as a keyed hash, as a login id that names no officer is.
  const recordFailure = tx.transaction((submitted: string, clientAddress: string, settle: () => Escalation[]) => {
    audit.appendInTransaction({ event: "api_token_fail", outcome: "invalid-client", actorKind: "anonymous", actor: submitted, clientAddress });
    auditEscalations(audit, settle(), { actor: submitted, clientAddress });
  });

  const find = (clientId: string): Outcome<ApiClient> => {
    const client = CLIENT_ID.test(clientId) ? apiClients.findByClientId(clientId) : undefined;
    return client ? success(client) : refusal({ field: "client-id", message: `no API client ${clientId}` });
  };
  const newSecret = () => randomBytes(32).toString("base64url");

  return {
    /** Registers a client for an orderer; the secret is returned once. */
    add(input: { ordererCode: string; name: string }, actor: string): Outcome<IssuedCredentials> {
      const code = parseOrdererCode(input.ordererCode);
      if (!code.ok) return refusal(...code.problems.map((p) => ({ ...p, field: "orderer" })));
      const orderer = orderers.findByCode(code.value);
      if (!orderer) return refusal({ field: "orderer", message: `no orderer ${code.value} is registered` });
      const name = normalizeText(input.name);
      if (name === "" || name.length > 100) return refusal({ field: "name", message: "must be 1-100 characters" });
      if (hasForbiddenCharacters(name)) return refusal({ field: "name", message: "contains control or invisible characters" });
      const clientSecret = newSecret();
      const client = add.immediate({ ordererId: orderer.id, name, secretHash: hashSecret(clientSecret) }, actor);
      return success({ client, clientSecret });
    },
    list(ordererCode?: string): Outcome<ApiClient[]> {
      if (ordererCode === undefined) return success(apiClients.list());
      const code = parseOrdererCode(ordererCode);
      return code.ok ? success(apiClients.list(code.value)) : refusal(...code.problems.map((p) => ({ ...p, field: "orderer" })));
    },
    /** Disabling takes effect at the next request: the API re-reads the client on every call. */
    setActive(clientId: string, active: boolean, actor: string): Outcome<{ client: ApiClient; changed: boolean }> {
      const found = find(clientId);
      if (!found.ok) return found;
      if (found.value.active === active) return success({ client: found.value, changed: false });
      setActive.immediate(found.value, active, actor);
      return success({ client: apiClients.findByClientId(clientId)!, changed: true });
    },
    /** A new secret, returned once; the old one, and the tokens issued with it, stop working at once. */
    rotateSecret(clientId: string, actor: string): Outcome<IssuedCredentials> {
      const found = find(clientId);
      if (!found.ok) return found;
      const clientSecret = newSecret();
      rotate.immediate(found.value, hashSecret(clientSecret), actor);
      return success({ client: apiClients.findByClientId(clientId)!, clientSecret });
    },
    /** The client, if it is active; for every request a token is presented with. */
    findActive(clientId: string): ApiClient | undefined {
      const client = apiClients.findByClientId(clientId);
      return client?.active ? client : undefined;
    },
    /**
     * The token endpoint's check of a client id and secret. Unknown id, wrong secret and disabled
     * client are one answer; a failure counts against the client address (the anonymous logins'
     * window, lifted by `address unlock`) before anything is compared.
     */
    authenticate(clientId: string, clientSecret: string, clientAddress: string): Authentication {
      const keys: ThrottleKey[] = [{ scope: "address", key: addressKey(clientAddress), policy: limits.address }];
      const attempt = attempts.reserve(keys);
      if (!attempt.allowed) return { ok: false, reason: "throttled", retryAfterSeconds: attempt.retryAfterSeconds };
      const client = CLIENT_ID.test(clientId) ? apiClients.findByClientId(clientId) : undefined;
      const presented = Buffer.from(hashSecret(clientSecret), "hex");
      const matches = timingSafeEqual(presented, Buffer.from(client?.secretHash ?? DUMMY_HASH, "hex")) && client !== undefined;
      if (matches && client.active) {
        recordSuccess.immediate(client, clientAddress, attempt.succeeded);
        return { ok: true, client };
      }
      recordFailure.immediate(client ? client.clientId : loginNames(clientId.slice(0, 200)), clientAddress, attempt.failed);
      return { ok: false, reason: "invalid-client" };
    },
  };
}

export type ApiClientService = ReturnType<typeof createApiClientService>;
