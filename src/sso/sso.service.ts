import { createHash, createHmac, randomBytes } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import { secondStepOwed } from "../auth/login.service.js";
import type { Clock } from "../clock.js";
import type { Limits } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeLogin } from "../format/normalize.js";
import { addressKey } from "../http/client-address.js";
import type { Officer } from "../officers/officer.repository.js";
import type { OfficerService } from "../officers/officer.service.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import type { LoginNameHash } from "../security/keyed-hash.js";
import type { Opener } from "../security/sealed-box.js";
import type { Attempt, AttemptThrottle } from "../throttling/attempt-throttle.js";
import { auditEscalations } from "../throttling/lockout.service.js";
import { providerUsedSecondFactor } from "./provider-mfa.js";
import type { GrantFailure, ProviderClient, RelyingParty, VouchedClaims } from "./relying-party.js";
import { ssoSecretContext } from "./sso-settings.service.js";
import type { SsoRepository, SsoSetting } from "./sso.repository.js";

/** A sign-in sent to the provider must come back within this. */
export const PENDING_LIFETIME_MS = 10 * 60_000;
export type SsoStart =
  | { ok: true; handle: string; url: URL }
  | { ok: false; reason: "no-provider" | "busy" | "provider-unreachable" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

export type SsoFailure =
  | GrantFailure | "no-pending" | "no-login-claim" | "unverified-email" | "unknown-user" | "other-orderer" | "disabled" | "claim-unusable"
  | "domain-not-allowed" | "subject-mismatch";

export type SsoResult = { ok: true; officer: Officer; providerMfa: boolean } | { ok: false; reason: SsoFailure };

/** state, nonce and the PKCE verifier, each derived from the browser's random handle. */
const derive = (handle: string, purpose: string) => createHmac("sha256", handle).update(purpose).digest("base64url");
const checksOf = (handle: string) => ({ state: derive(handle, "state"), nonce: derive(handle, "nonce"), codeVerifier: derive(handle, "pkce") });
const hashOf = (handle: string) => createHash("sha256").update(handle).digest("hex");

/**
 * Sign-in through an orderer's identity provider: `begin` stores a pending sign-in and gives the
 * provider's URL; `complete` takes the pending sign-in once, redeems the code and finds the
 * officer: the account of that orderer whose login id equals the configured claim (a verified
 * e-mail address when the claim is `email`), tied at the first sign-in to the provider's subject
 * and afterwards only to it. Every answer from a provider is audited, success and each cause of
 * failure. Starting is counted per client address, and the sign-ins waiting are capped per orderer.
 */
export function createSsoService(deps: {
  sso: SsoRepository; orderers: OrdererRepository; officers: OfficerService; tx: Transactions; clock: Clock; audit: AuditService;
  opener: () => Opener; relyingParty: RelyingParty; loginNames: LoginNameHash; attempts: AttemptThrottle; limits: Pick<Limits, "ssoAddress" | "ssoPending">;
}) {
  const { sso, orderers, officers, tx, clock, audit, opener, relyingParty, loginNames, attempts, limits } = deps;
  const now = () => clock.now().toISOString();

  // A start is spent whatever its end (as a window's failure): the budget bounds starts, not mistakes.
  const spend = tx.transaction((attempt: Attempt & { allowed: true }, clientAddress: string) => {
    auditEscalations(audit, attempt.failed(), { actor: "anonymous", clientAddress });
  });

  const store = tx.transaction((handleHash: string, ordererId: number, attempt: Attempt & { allowed: true }, clientAddress: string): boolean => {
    spend(attempt, clientAddress);
    sso.purgePending(now());
    if (sso.countPending(ordererId, now()) >= limits.ssoPending.perOrderer) return false;
    sso.insertPending({ handleHash, ordererId, now: now(), expiresAt: new Date(clock.now().getTime() + PENDING_LIFETIME_MS).toISOString() });
    return true;
  });

  const audited = (setting: SsoSetting, outcome: "ok" | "second-factor-next" | SsoFailure, actor: string, officer: Officer | undefined, clientAddress: string, detail: Record<string, unknown>) =>
    audit.appendInTransaction({
      event: outcome === "ok" || outcome === "second-factor-next" ? "authn_sso_success" : "authn_sso_fail", outcome, actorKind: officer ? "officer" : "anonymous", actor,
      officerId: officer?.id ?? null, ordererCode: setting.ordererCode, clientAddress, detail: { issuer: setting.issuer, ...detail },
    });
  const record = tx.transaction(audited);

  /**
   * The provider vouched for `officer`: the subject is checked against the officer's link (and
   * tied when there is none yet) in the same transaction as the audit. The last login is recorded
   * only when the login completes here; when a code is still owed, /login/mfa records it.
   */
  const accept = tx.transaction((setting: SsoSetting, officer: Officer, subject: string, providerMfa: boolean, clientAddress: string): boolean => {
    const linked = sso.findSubject(officer.id);
    const holder = sso.findOfficerIdBySubject(setting.ordererId, setting.issuer, subject);
    if ((linked && (linked.issuer !== setting.issuer || linked.subject !== subject)) || (holder !== undefined && holder !== officer.id)) {
      audited(setting, "subject-mismatch", officer.login, officer, clientAddress, { subject, linked: linked !== undefined });
      return false;
    }
    const newlyLinked = !linked && sso.linkSubject({ officerId: officer.id, ordererId: setting.ordererId, issuer: setting.issuer, subject, now: now() });
    const owed = secondStepOwed(officer, providerMfa);
    if (!owed) officers.recordLogin(officer);
    audited(setting, owed ? "second-factor-next" : "ok", officer.login, officer, clientAddress, { providerMfa, ...(newlyLinked ? { subjectLinked: subject } : {}) });
    return true;
  });

  const providerOf = (setting: SsoSetting): ProviderClient => ({
    issuer: setting.issuer, clientId: setting.clientId, cacheKey: `${setting.ordererId}:${setting.updatedAt}`,
    clientSecret: opener().open(setting.clientSecretSealed, ssoSecretContext(setting.ordererId)),
  });

  /** The officer the claim names, created when the orderer allows it, or why not. */
  async function officerFor(setting: SsoSetting, claims: VouchedClaims): Promise<{ login?: string; officer?: Officer; failure?: SsoFailure }> {
    const value = claims[setting.loginClaim];
    if (typeof value !== "string" || value.trim() === "" || value.length > 254) return { failure: "no-login-claim" };
    const login = normalizeLogin(value);
    // An e-mail address the provider has not verified may be one its user typed (Entra ID's is editable and carries no email_verified).
    if (setting.loginClaim === "email" && claims.email_verified !== true) return { login, failure: "unverified-email" };
    let officer = officers.findByLogin(login);
    if (!officer && setting.createAccounts) {
      const at = login.lastIndexOf("@");
      if ((setting.loginClaim === "email" || at >= 0) && (at < 0 || !setting.domains.includes(login.slice(at + 1)))) return { login, failure: "domain-not-allowed" };
      // A subject already tied to an officer does not get a second account by changing its address.
      if (sso.findOfficerIdBySubject(setting.ordererId, setting.issuer, claims.sub) !== undefined) return { login, failure: "subject-mismatch" };
      const name = typeof claims.name === "string" && claims.name.trim() !== "" ? claims.name : login;
      // A password nobody knows: the account signs in through its provider (an admin can reset it).
      const added = await officers.add({ ordererCode: setting.ordererCode, login, displayName: name.slice(0, 100), password: randomBytes(24).toString("base64url") }, `sso:${setting.ordererCode}`);
      if (!added.ok) return { login, failure: "claim-unusable" };
      officer = added.value.officer;
    }
    if (!officer) return { login, failure: "unknown-user" };
    if (officer.ordererId !== setting.ordererId) return { login, failure: "other-orderer" };
    if (!officer.active) return { login, officer, failure: "disabled" };
    return { login, officer };
  }

  return {
    /** The orderers offering sign-in through their provider, for the login page. */
    choices: () => sso.listOffering(),

    /** The orderer whose provider signs in a login id of this e-mail domain; never a look-up of the account. */
    ordererCodeForLogin(rawLogin: string): string | undefined {
      const login = normalizeLogin(rawLogin);
      const at = login.lastIndexOf("@");
      const ordererId = at > 0 ? sso.findOrdererIdByDomain(login.slice(at + 1)) : undefined;
      return ordererId === undefined ? undefined : orderers.findById(ordererId)?.code;
    },

    /** A new pending sign-in for the orderer's provider: the browser keeps `handle`, and goes to `url`. */
    async begin(ordererCode: string, clientAddress: string): Promise<SsoStart> {
      const orderer = orderers.findByCode(ordererCode);
      const setting = orderer && sso.findByOrderer(orderer.id);
      if (!setting) return { ok: false, reason: "no-provider" };
      const attempt = attempts.reserve([{ scope: "sso_address", key: addressKey(clientAddress), policy: limits.ssoAddress }]);
      if (!attempt.allowed) return { ok: false, reason: "throttled", retryAfterSeconds: attempt.retryAfterSeconds };
      const handle = randomBytes(32).toString("base64url");
      let url: URL;
      try {
        url = await relyingParty.authorizationUrl(providerOf(setting), checksOf(handle));
      } catch {
        spend.immediate(attempt, clientAddress);
        return { ok: false, reason: "provider-unreachable" };
      }
      if (!store.immediate(hashOf(handle), setting.ordererId, attempt, clientAddress)) return { ok: false, reason: "busy" };
      return { ok: true, handle, url };
    },

    /**
     * The provider's answer: the pending sign-in of `handle` is taken (once), the code redeemed
     * and the ID token checked against that orderer's provider and client; then the officer.
     * Without a pending sign-in nothing is audited (a stranger's request to the callback costs a log line).
     */
    async complete(handle: string | undefined, query: string, clientAddress: string): Promise<SsoResult> {
      const ordererId = handle === undefined ? undefined : sso.takePending(hashOf(handle), now());
      const setting = ordererId === undefined ? undefined : sso.findByOrderer(ordererId);
      if (!setting) return { ok: false, reason: "no-pending" };
      const redeemed = await relyingParty.redeem(providerOf(setting), query, checksOf(handle!));
      if (!redeemed.ok) {
        record.immediate(setting, redeemed.reason, "anonymous", undefined, clientAddress, { cause: redeemed.detail });
        return { ok: false, reason: redeemed.reason };
      }
      const found = await officerFor(setting, redeemed.claims);
      // The login id is named only when it is this orderer's officer's; otherwise its keyed hash, as for password logins.
      const own = found.officer && found.officer.ordererId === setting.ordererId ? found.officer : undefined;
      const actor = own ? own.login : found.login ? loginNames(found.login) : "anonymous";
      if (found.failure) {
        record.immediate(setting, found.failure, actor, own, clientAddress, {});
        return { ok: false, reason: found.failure };
      }
      const providerMfa = setting.providerMfa && providerUsedSecondFactor(redeemed.claims);
      if (!accept.immediate(setting, own!, redeemed.claims.sub, providerMfa, clientAddress)) return { ok: false, reason: "subject-mismatch" };
      return { ok: true, officer: officers.findById(own!.id)!, providerMfa };
    },
  };
}

export type SsoService = ReturnType<typeof createSsoService>;
