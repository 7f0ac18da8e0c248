import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { hasForbiddenCharacters, normalizeLogin } from "../format/normalize.js";
import type { OfficerRepository } from "../officers/officer.repository.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import type { Sealer } from "../security/sealed-box.js";
import type { SsoRepository, SsoSetting } from "./sso.repository.js";

/** What `orderer sso` may change; an omitted field keeps its value (a new setting needs the first three). */
export type SsoInput = {
  issuer?: string; clientId?: string; clientSecret?: string; loginClaim?: string; createAccounts?: boolean; providerMfa?: boolean; domains?: string[];
};

/** The sealed secret's context: a value copied to another orderer's row does not open. */
export const ssoSecretContext = (ordererId: number) => `sso:${ordererId}`;

const CLAIM = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const DOMAIN = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The issuer: https, no query, fragment or credentials; plain http only on loopback outside production. */
export function parseIssuer(raw: string, production: boolean): Outcome<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return refusal({ field: "issuer", message: `must be the provider's issuer URL, e.g. https://login.example.lg.jp/realms/mutsu (got "${raw}")` });
  }
  if (raw.trim().length > 500) return refusal({ field: "issuer", message: "must be at most 500 characters" });
  if (url.username || url.password || url.search || url.hash) return refusal({ field: "issuer", message: "must have no user, password, query or fragment" });
  const loopback = LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  // Kept as typed: the provider's discovery document must name exactly this issuer.
  if (url.protocol === "https:" || (url.protocol === "http:" && loopback && !production)) return success(raw.trim());
  return refusal({ field: "issuer", message: production ? "must be https:// in production" : "must be https:// (http:// only for a provider on this machine, outside production)" });
}

/**
 * An orderer's identity provider, set by the issuer's administrators with the admin CLI: the
 * client secret sealed with the service's public key (the CLI cannot read it back), every change
 * audited without the secret.
 */
/** Who unlinks: the issuer's operator (CLI) or an orderer's administrator. */
export type UnlinkedBy = { actorKind: "admin" | "officer"; actor: string };

export function createSsoSettingsService(deps: {
  sso: SsoRepository; orderers: OrdererRepository; officers: OfficerRepository; tx: Transactions; clock: Clock; audit: AuditService; sealer: () => Sealer; production: boolean;
}) {
  const { sso, orderers, officers, tx, clock, audit, sealer, production } = deps;

  const save = tx.transaction((setting: Omit<SsoSetting, "ordererCode" | "ordererName">, previous: SsoSetting | undefined, ordererCode: string, secretChanged: boolean, actor: string): boolean => {
    if (!sso.save(setting)) throw new DomainTaken();
    // Another provider, or another client of a pairwise one, names the same people by other subjects.
    const providerChanged = previous !== undefined && (previous.issuer !== setting.issuer || previous.clientId !== setting.clientId);
    const subjectsUnlinked = providerChanged ? sso.removeSubjects(setting.ordererId) : 0;
    audit.appendInTransaction({
      event: "orderer_sso_set", outcome: "ok", actorKind: "admin", actor, ordererCode,
      detail: {
        issuer: setting.issuer, clientId: setting.clientId, loginClaim: setting.loginClaim, createAccounts: setting.createAccounts,
        providerMfa: setting.providerMfa, domains: setting.domains, secretChanged, subjectsUnlinked,
      },
    });
    return true;
  });
  const remove = tx.transaction((ordererId: number, ordererCode: string, actor: string) => {
    const subjectsUnlinked = sso.removeSubjects(ordererId);
    if (!sso.remove(ordererId)) return false;
    audit.appendInTransaction({ event: "orderer_sso_remove", outcome: "ok", actorKind: "admin", actor, ordererCode, detail: { subjectsUnlinked } });
    return true;
  });

  const unlink = tx.transaction((officer: { id: number; login: string; ordererCode: string }, by: UnlinkedBy): boolean => {
    const subject = sso.removeSubject(officer.id);
    audit.appendInTransaction({
      event: "officer_sso_unlink", outcome: subject === undefined ? "nothing-to-unlink" : "ok", actorKind: by.actorKind, actor: by.actor,
      officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login, ...(subject === undefined ? {} : { subject }) },
    });
    return subject !== undefined;
  });

  function findOrderer(rawCode: string): Outcome<{ id: number; code: string }> {
    const code = parseOrdererCode(rawCode);
    if (!code.ok) return refusal({ field: "orderer", message: code.problems[0]!.message });
    const orderer = orderers.findByCode(code.value);
    return orderer ? success(orderer) : refusal({ field: "orderer", message: `no orderer ${code.value} is registered` });
  }

  return {
    /** Sets (or changes) the orderer's provider; every problem of the input at once, nothing changed then. */
    configure(rawCode: string, input: SsoInput, actor: string): Outcome<SsoSetting> {
      const orderer = findOrderer(rawCode);
      if (!orderer.ok) return orderer;
      const current = sso.findByOrderer(orderer.value.id);
      const problems: Problem[] = [];
      const issuer = input.issuer === undefined ? undefined : parseIssuer(input.issuer, production);
      if (issuer && !issuer.ok) problems.push(...issuer.problems);
      if (!current && input.issuer === undefined) problems.push({ field: "issuer", message: "is required for a new setting (--issuer URL)" });
      const clientId = input.clientId?.trim();
      if (clientId !== undefined && (clientId === "" || clientId.length > 255 || /\s/.test(clientId) || hasForbiddenCharacters(clientId))) {
        problems.push({ field: "client-id", message: "must be 1-255 characters without spaces" });
      }
      if (!current && clientId === undefined) problems.push({ field: "client-id", message: "is required for a new setting (--client-id ID)" });
      const secret = input.clientSecret;
      if (secret !== undefined && (secret.trim() === "" || secret.length > 1000 || hasForbiddenCharacters(secret))) {
        problems.push({ field: "client-secret", message: "must be 1-1000 printable characters (read from stdin)" });
      }
      if (!current && secret === undefined) problems.push({ field: "client-secret", message: "is required for a new setting (--client-secret-stdin)" });
      if (input.loginClaim !== undefined && !CLAIM.test(input.loginClaim.trim())) {
        problems.push({ field: "login-claim", message: `must be a claim name such as email or preferred_username (got "${input.loginClaim}")` });
      }
      const domains = input.domains?.map((d) => d.trim().toLowerCase()).filter((d) => d !== "");
      for (const domain of domains ?? []) {
        if (!DOMAIN.test(domain)) problems.push({ field: "domain", message: `must be an e-mail domain such as city.mutsu.lg.jp (got "${domain}")` });
        else if ((sso.findOrdererIdByDomain(domain) ?? orderer.value.id) !== orderer.value.id) problems.push({ field: "domain", message: `${domain} already leads to another orderer's provider` });
      }
      if (problems.length > 0) return refusal(...problems);
      const setting = {
        ordererId: orderer.value.id,
        issuer: issuer?.ok ? issuer.value : current!.issuer,
        clientId: clientId ?? current!.clientId,
        clientSecretSealed: secret !== undefined ? sealer().seal(secret.trim(), ssoSecretContext(orderer.value.id)) : current!.clientSecretSealed,
        loginClaim: input.loginClaim?.trim() ?? current?.loginClaim ?? "email",
        createAccounts: input.createAccounts ?? current?.createAccounts ?? false,
        providerMfa: input.providerMfa ?? current?.providerMfa ?? false,
        domains: domains ? [...new Set(domains)] : current?.domains ?? [],
        updatedAt: clock.now().toISOString(),
      };
      try {
        save.immediate(setting, current, orderer.value.code, secret !== undefined, actor);
      } catch (error) {
        if (error instanceof DomainTaken) return refusal({ field: "domain", message: "a domain already leads to another orderer's provider" });
        throw error;
      }
      return success(sso.findByOrderer(orderer.value.id)!);
    },

    /** The orderer's setting (its secret stays sealed), or undefined when it has none. */
    show(rawCode: string): Outcome<SsoSetting | undefined> {
      const orderer = findOrderer(rawCode);
      return orderer.ok ? success(sso.findByOrderer(orderer.value.id)) : orderer;
    },

    /**
     * `officer sso-unlink LOGIN`: forgets which provider subject the officer is tied to (their
     * provider account was recreated, say); the next sign-in through the provider ties them again.
     */
    unlinkOfficer(rawLogin: string, actor: string): Outcome<{ login: string; wasLinked: boolean }> {
      const login = normalizeLogin(rawLogin);
      const officer = login === "" || login.length > 254 ? undefined : officers.findByLogin(login);
      if (!officer) return refusal({ field: "login", message: `no officer ${rawLogin.trim()} is registered` });
      return success({ login: officer.login, wasLinked: unlink.immediate(officer, { actorKind: "admin", actor }) });
    },

    /** The same from an orderer's administrator (/admin/officers), who has already reached the officer. */
    unlinkSubject: (officer: { id: number; login: string; ordererCode: string }, by: UnlinkedBy): boolean => unlink.immediate(officer, by),

    /** The orderer's officers tied to a provider subject. */
    linkedOfficerIds: (ordererId: number): Set<number> => sso.linkedOfficerIds(ordererId),

    remove(rawCode: string, actor: string): Outcome<string> {
      const orderer = findOrderer(rawCode);
      if (!orderer.ok) return orderer;
      if (!remove.immediate(orderer.value.id, orderer.value.code, actor)) return refusal({ field: "orderer", message: `${orderer.value.code} has no identity provider set` });
      return success(orderer.value.code);
    },
  };
}

/** A domain taken between the check and the write: the transaction rolls back. */
class DomainTaken extends Error {}

export type SsoSettingsService = ReturnType<typeof createSsoSettingsService>;
