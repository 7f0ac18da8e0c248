import { createHash, createHmac, randomBytes } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeLogin } from "../format/normalize.js";
import type { Officer } from "../officers/officer.repository.js";
import type { OfficerService } from "../officers/officer.service.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import type { LoginNameHash } from "../security/keyed-hash.js";
import type { Opener } from "../security/sealed-box.js";
import { providerUsedSecondFactor } from "./provider-mfa.js";
import type { GrantFailure, ProviderClient, RelyingParty, VouchedClaims } from "./relying-party.js";
import { ssoSecretContext } from "./sso-settings.service.js";
import type { SsoRepository, SsoSetting } from "./sso.repository.js";

/** A sign-in sent to the provider must come back within this. */
export const PENDING_LIFETIME_MS = 10 * 60_000;
/** Sign-ins waiting at once, across all orderers: a bound on what strangers can make us store. */
const MAX_PENDING = 10_000;

export type SsoStart = { ok: true; handle: string; url: URL } | { ok: false; reason: "no-provider" | "busy" | "provider-unreachable" };

export type SsoFailure = GrantFailure | "no-pending" | "no-login-claim" | "unverified-email" | "unknown-user" | "other-orderer" | "disabled" | "claim-unusable";

export type SsoResult = { ok: true; officer: Officer; providerMfa: boolean } | { ok: false; reason: SsoFailure };

/** state, nonce and the PKCE verifier, each derived from the browser's random handle. */
const derive = (handle: string, purpose: string) => createHmac("sha256", handle).update(purpose).digest("base64url");
const checksOf = (handle: string) => ({ state: derive(handle, "state"), nonce: derive(handle, "nonce"), codeVerifier: derive(handle, "pkce") });
const hashOf = (handle: string) => createHash("sha256").update(handle).digest("hex");

/**
 * Sign-in through an orderer's identity provider: `begin` stores a pending sign-in and gives the
 * provider's URL; `complete` takes the pending sign-in once, redeems the code and finds the
 * officer: the account of that orderer whose login id equals the configured claim. Every answer
 * from a provider is audited, success and each cause of failure.
 */
export function createSsoService(deps: {
  sso: SsoRepository; orderers: OrdererRepository; officers: OfficerService; tx: Transactions; clock: Clock; audit: AuditService;
  opener: () => Opener; relyingParty: RelyingParty; loginNames: LoginNameHash;
}) {
  const { sso, orderers, officers, tx, clock, audit, opener, relyingParty, loginNames } = deps;
  const now = () => clock.now().toISOString();

  const store = tx.transaction((handleHash: string, ordererId: number): boolean => {
    sso.purgePending(now());
    if (sso.countPending() >= MAX_PENDING) return false;
    sso.insertPending({ handleHash, ordererId, now: now(), expiresAt: new Date(clock.now().getTime() + PENDING_LIFETIME_MS).toISOString() });
    return true;
  });

  const record = tx.transaction((setting: SsoSetting, outcome: "ok" | SsoFailure, actor: string, officer: Officer | undefined, clientAddress: string, detail: Record<string, unknown>) => {
    if (officer && outcome === "ok") officers.recordLogin(officer);
    audit.appendInTransaction({
      event: outcome === "ok" ? "authn_sso_success" : "authn_sso_fail", outcome, actorKind: officer ? "officer" : "anonymous", actor,
      officerId: officer?.id ?? null, ordererCode: setting.ordererCode, clientAddress, detail: { issuer: setting.issuer, ...detail },
    });
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
    if (setting.loginClaim === "email" && claims.email_verified === false) return { login, failure: "unverified-email" };
    let officer = officers.findByLogin(login);
    if (!officer && setting.createAccounts) {
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
    choices: () => sso.list().map((s) => ({ code: s.ordererCode, name: s.ordererName })),

    /** The orderer whose provider signs in a login id of this e-mail domain; never a look-up of the account. */
    ordererCodeForLogin(rawLogin: string): string | undefined {
      const login = normalizeLogin(rawLogin);
      const at = login.lastIndexOf("@");
      const ordererId = at > 0 ? sso.findOrdererIdByDomain(login.slice(at + 1)) : undefined;
      return ordererId === undefined ? undefined : orderers.findById(ordererId)?.code;
    },

    /** A new pending sign-in for the orderer's provider: the browser keeps `handle`, and goes to `url`. */
    async begin(ordererCode: string): Promise<SsoStart> {
      const orderer = orderers.findByCode(ordererCode);
      const setting = orderer && sso.findByOrderer(orderer.id);
      if (!setting) return { ok: false, reason: "no-provider" };
      const handle = randomBytes(32).toString("base64url");
      let url: URL;
      try {
        url = await relyingParty.authorizationUrl(providerOf(setting), checksOf(handle));
      } catch {
        return { ok: false, reason: "provider-unreachable" };
      }
      if (!store.immediate(hashOf(handle), setting.ordererId)) return { ok: false, reason: "busy" };
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
      record.immediate(setting, "ok", actor, own, clientAddress, { providerMfa });
      return { ok: true, officer: officers.findById(own!.id)!, providerMfa };
    },
  };
}

export type SsoService = ReturnType<typeof createSsoService>;
