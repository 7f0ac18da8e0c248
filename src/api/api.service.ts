import type { ApiClient } from "../api-clients/api-client.repository.js";
import type { ApiClientService, Authentication } from "../api-clients/api-client.service.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { ContractActor } from "../contracts/contract.service.js";
import type { Transactions } from "../db/transactions.js";
import { tokyoDate } from "../format/era-date.js";
import { normalizeAuthKey, normalizeContractNumber } from "../format/normalize.js";
import type { HeldGuaranteeEntry, HoldingPageFilter } from "../holdings/holding.repository.js";
import type { HeldGuaranteeWithVersion, HoldingService } from "../holdings/holding.service.js";
import type { EventRepository, OrdererEvent } from "../notifications/event.repository.js";
import { refusal, success, type Outcome } from "../result.js";
import type { VerificationService, VerifyActor, VerifyResult } from "../verification/verification.service.js";
import { TOKEN_LIFETIME_SECONDS, type AccessTokens } from "./access-token.js";

/** Who calls the API: an active client of one orderer, and the address it calls from. */
export type ApiCaller = { client: ApiClient; clientAddress: string };

export type HeldPageQuery = Pick<HoldingPageFilter, "status" | "expiresBefore" | "changedSince" | "limit"> & { after: number };

/** What the audit trail records of an API read (verification and contract writes record their own). */
export type ApiReadEvent = "api_guarantee_view" | "api_version_view" | "api_guarantee_list" | "api_contract_list" | "api_contract_view" | "api_contract_checks_view" | "api_contract_unchanged" | "api_event_list";

const actorOf = (client: ApiClient): VerifyActor => ({
  kind: "api-client", id: client.id, login: client.clientId, ordererId: client.ordererId, ordererCode: client.ordererCode,
});

export const contractActorOf = (caller: ApiCaller): ContractActor => ({
  kind: "api-client", login: caller.client.clientId, officerId: null, ordererId: caller.client.ordererId,
  ordererCode: caller.client.ordererCode, clientAddress: caller.clientAddress,
});

/**
 * The API over the services the web uses: an orderer's client sees exactly what its officers see
 * (the guarantees the orderer holds, its contract register) and nothing else. API reads do not
 * mark a guarantee as opened: 更新あり in 確認済みの保証 is for the officers to clear.
 */
export function createApiService(deps: {
  apiClients: ApiClientService; tokens: AccessTokens; verification: VerificationService; holdings: HoldingService;
  events: EventRepository; tx: Transactions; clock: Clock; audit: AuditService;
}) {
  const { apiClients, tokens, verification, holdings, events, tx, clock, audit } = deps;
  const commits = tx.groupCommit();

  return {
    /** POST /api/v1/token's work: the client's credentials (throttled like logins) -> a token for 10 minutes. */
    async issueToken(clientId: string, clientSecret: string, clientAddress: string): Promise<
      { ok: true; accessToken: string; expiresIn: number } | Exclude<Authentication, { ok: true }>
    > {
      const authenticated = apiClients.authenticate(clientId, clientSecret, clientAddress);
      if (!authenticated.ok) return authenticated;
      return { ok: true, accessToken: await tokens.issue(authenticated.client), expiresIn: TOKEN_LIFETIME_SECONDS };
    },

    /**
     * The active client a bearer token names, or undefined: a bad or expired token, a client disabled
     * or moved since, or a token issued before the client's secret was last set (a secret is rotated
     * because it leaked: the tokens got with it end with it, to the second of the rotation).
     */
    async authorize(token: string): Promise<ApiClient | undefined> {
      const claims = await tokens.verify(token);
      if (!claims) return undefined;
      const client = apiClients.findActive(claims.clientId);
      if (!client || client.ordererCode !== claims.ordererCode) return undefined;
      return claims.issuedAt >= Math.floor(Date.parse(client.secretSetAt) / 1000) ? client : undefined;
    },

    /** The form's forgiving reading of the two fields, then the one verification path of officers. */
    async verify(caller: ApiCaller, input: { contractNumber: string; authKey: string }): Promise<Outcome<VerifyResult>> {
      const contractNumber = normalizeContractNumber(input.contractNumber);
      const authKey = normalizeAuthKey(input.authKey);
      if (!contractNumber.ok || !authKey.ok) {
        return refusal(
          ...(contractNumber.ok ? [] : [{ field: "contractNumber", message: "must be a contract number NNNNN-NNNNNN (full-width digits and any dash are accepted)" }]),
          ...(authKey.ok ? [] : [{ field: "authKey", message: "must be the 12 letters and digits of the auth key (hyphens and spaces are ignored)" }]),
        );
      }
      return success(await verification.verify({
        actor: actorOf(caller.client), contractNumber: contractNumber.value, authKey: authKey.value, clientAddress: caller.clientAddress,
      }));
    },

    /** The guarantee with its version in force, if the client's orderer holds it; undefined otherwise, whatever the reason. */
    findHeld: (caller: ApiCaller, rawNumber: string): HeldGuaranteeWithVersion | undefined => holdings.findHeld(caller.client, rawNumber),
    listVersions: holdings.listVersions,
    findVersion: holdings.findVersion,

    /** One page of the orderer's holdings, and whether there is another. */
    listHeld(caller: ApiCaller, query: HeldPageQuery): { entries: HeldGuaranteeEntry[]; more: boolean } {
      const rows = holdings.listPage({ ...query, ordererId: caller.client.ordererId, today: tokyoDate(clock.now()), limit: query.limit + 1 });
      return { entries: rows.slice(0, query.limit), more: rows.length > query.limit };
    },

    /**
     * The orderer's events after the id `after`, oldest first, and whether more follow. Ids are
     * handed out by SQLite's one writer at commit, so no event can later appear below an id a
     * client has already seen: keeping the last id is enough to miss nothing.
     */
    listEvents(caller: ApiCaller, after: number, limit: number): { events: OrdererEvent[]; more: boolean } {
      const rows = events.after({ ordererId: caller.client.ordererId, after, limit: limit + 1 });
      return { events: rows.slice(0, limit), more: rows.length > limit };
    },

    /** Records a read, committed (with others of the same moment) before the answer is sent. */
    recordRead(caller: ApiCaller, event: ApiReadEvent, target: { contractNumber?: string; detail?: Record<string, unknown> } = {}): Promise<void> {
      return commits.write(() => audit.appendInTransaction({
        event, outcome: "ok", actorKind: "api-client", actor: caller.client.clientId, ordererCode: caller.client.ordererCode,
        clientAddress: caller.clientAddress, contractNumber: target.contractNumber ?? null, ...(target.detail ? { detail: target.detail } : {}),
      }));
    },
  };
}

export type ApiService = ReturnType<typeof createApiService>;
