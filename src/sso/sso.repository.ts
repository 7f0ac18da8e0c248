import type { Db } from "../db/database.js";

/** An orderer's identity provider, as the admin CLI set it (the secret still sealed). */
export type SsoSetting = {
  ordererId: number;
  ordererCode: string;
  ordererName: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  loginClaim: string;
  createAccounts: boolean;
  providerMfa: boolean;
  domains: string[];
  updatedAt: string;
};

type SettingRow = {
  orderer_id: number; orderer_code: string; orderer_name: string; issuer: string; client_id: string; client_secret_sealed: string;
  login_claim: string; create_accounts: number; provider_mfa: number; updated_at: string;
};

const SELECT = `
  SELECT s.orderer_id, o.code AS orderer_code, o.name AS orderer_name, s.issuer, s.client_id, s.client_secret_sealed,
         s.login_claim, s.create_accounts, s.provider_mfa, s.updated_at
  FROM orderer_sso s JOIN orderers o ON o.id = s.orderer_id`;

export function createSsoRepository(db: Db) {
  const byOrderer = db.prepare<[number], SettingRow>(`${SELECT} WHERE s.orderer_id = ?`);
  // The login page's list: names only, read on every view of it (no setting, no domains).
  const offering = db.prepare<[], { code: string; name: string }>("SELECT o.code, o.name FROM orderer_sso s JOIN orderers o ON o.id = s.orderer_id ORDER BY o.code");
  const domainsOf = db.prepare<[number], { domain: string }>("SELECT domain FROM sso_login_domains WHERE orderer_id = ? ORDER BY domain");
  const byDomain = db.prepare<[string], { orderer_id: number }>("SELECT orderer_id FROM sso_login_domains WHERE domain = ?");
  const upsert = db.prepare(`
    INSERT INTO orderer_sso (orderer_id, issuer, client_id, client_secret_sealed, login_claim, create_accounts, provider_mfa, updated_at)
    VALUES (@ordererId, @issuer, @clientId, @clientSecretSealed, @loginClaim, @createAccounts, @providerMfa, @updatedAt)
    ON CONFLICT (orderer_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
      client_secret_sealed = excluded.client_secret_sealed, login_claim = excluded.login_claim,
      create_accounts = excluded.create_accounts, provider_mfa = excluded.provider_mfa, updated_at = excluded.updated_at`);
  const removeDomains = db.prepare("DELETE FROM sso_login_domains WHERE orderer_id = ?");
  const insertDomain = db.prepare("INSERT INTO sso_login_domains (domain, orderer_id) VALUES (@domain, @ordererId) ON CONFLICT (domain) DO NOTHING");
  const remove = db.prepare("DELETE FROM orderer_sso WHERE orderer_id = ?");
  const insertPending = db.prepare("INSERT INTO sso_pending (handle_hash, orderer_id, created_at, expires_at) VALUES (@handleHash, @ordererId, @now, @expiresAt)");
  const takePending = db.prepare<{ handleHash: string; now: string }, { orderer_id: number }>(
    "DELETE FROM sso_pending WHERE handle_hash = @handleHash AND expires_at > @now RETURNING orderer_id");
  const purgePending = db.prepare("DELETE FROM sso_pending WHERE expires_at <= ?");
  const countPending = db.prepare<{ ordererId: number; now: string }, { n: number }>(
    "SELECT count(*) AS n FROM sso_pending WHERE orderer_id = @ordererId AND expires_at > @now");
  const subjectOf = db.prepare<[number], { issuer: string; subject: string }>("SELECT issuer, subject FROM sso_subjects WHERE officer_id = ?");
  const officerOfSubject = db.prepare<{ ordererId: number; issuer: string; subject: string }, { officer_id: number }>(
    "SELECT officer_id FROM sso_subjects WHERE orderer_id = @ordererId AND issuer = @issuer AND subject = @subject");
  const insertSubject = db.prepare(`
    INSERT INTO sso_subjects (officer_id, orderer_id, issuer, subject, linked_at) VALUES (@officerId, @ordererId, @issuer, @subject, @now)
    ON CONFLICT DO NOTHING`);
  const removeSubjects = db.prepare("DELETE FROM sso_subjects WHERE orderer_id = ?");
  const removeSubject = db.prepare<[number], { subject: string }>("DELETE FROM sso_subjects WHERE officer_id = ? RETURNING subject");
  const linkedOfOrderer = db.prepare<[number], { officer_id: number }>("SELECT officer_id FROM sso_subjects WHERE orderer_id = ?");

  const toSetting = (r: SettingRow): SsoSetting => ({
    ordererId: r.orderer_id, ordererCode: r.orderer_code, ordererName: r.orderer_name, issuer: r.issuer, clientId: r.client_id,
    clientSecretSealed: r.client_secret_sealed, loginClaim: r.login_claim, createAccounts: r.create_accounts === 1,
    providerMfa: r.provider_mfa === 1, domains: domainsOf.all(r.orderer_id).map((d) => d.domain), updatedAt: r.updated_at,
  });

  return {
    findByOrderer: (ordererId: number) => { const r = byOrderer.get(ordererId); return r && toSetting(r); },
    /** Every orderer with a provider (a few of the 1,800), for the login page's choice. */
    /** The orderers offering sign-in through their provider, by code. */
    listOffering: () => offering.all(),
    findOrdererIdByDomain: (domain: string) => byDomain.get(domain)?.orderer_id,
    /** Creates or replaces the setting and its domains; false when a domain belongs to another orderer. */
    save(s: Omit<SsoSetting, "ordererCode" | "ordererName">): boolean {
      upsert.run({ ...s, createAccounts: s.createAccounts ? 1 : 0, providerMfa: s.providerMfa ? 1 : 0 });
      removeDomains.run(s.ordererId);
      return s.domains.every((domain) => insertDomain.run({ domain, ordererId: s.ordererId }).changes === 1);
    },
    /** The domains go with it (ON DELETE CASCADE). */
    remove: (ordererId: number): boolean => remove.run(ordererId).changes === 1,
    insertPending: (p: { handleHash: string; ordererId: number; now: string; expiresAt: string }) => void insertPending.run(p),
    /** The pending sign-in's orderer, deleted as it is read: a handle works once, and not after it expired. */
    takePending: (handleHash: string, now: string) => takePending.get({ handleHash, now })?.orderer_id,
    purgePending: (now: string) => purgePending.run(now).changes,
    /** Sign-ins of one orderer still waiting for the provider's answer. */
    countPending: (ordererId: number, now: string) => countPending.get({ ordererId, now })!.n,
    /** The provider's subject the officer is tied to, if they have signed in through it. */
    findSubject: (officerId: number) => subjectOf.get(officerId),
    /** The orderer's officers tied to a provider subject (for the administrators' list). */
    linkedOfficerIds: (ordererId: number) => new Set(linkedOfOrderer.all(ordererId).map((r) => r.officer_id)),
    findOfficerIdBySubject: (ordererId: number, issuer: string, subject: string) => officerOfSubject.get({ ordererId, issuer, subject })?.officer_id,
    /** Ties the officer to the subject; false when either is already tied (to another). */
    linkSubject: (link: { officerId: number; ordererId: number; issuer: string; subject: string; now: string }): boolean => insertSubject.run(link).changes === 1,
    /** Forgets the orderer's links (its provider or client changed): each officer is tied again at their next sign-in. */
    removeSubjects: (ordererId: number): number => removeSubjects.run(ordererId).changes,
    /** Forgets one officer's link; the subject it named, if any. */
    removeSubject: (officerId: number): string | undefined => removeSubject.get(officerId)?.subject,
  };
}

export type SsoRepository = ReturnType<typeof createSsoRepository>;
