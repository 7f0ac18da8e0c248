import type { KeyObject } from "node:crypto";
import { createAccessTokens, type TokenKeys } from "./api/access-token.js";
import { createApiService } from "./api/api.service.js";
import { createApiClientRepository } from "./api-clients/api-client.repository.js";
import { createApiClientService } from "./api-clients/api-client.service.js";
import { createAuditCheckpointRepository } from "./audit/audit-checkpoint.repository.js";
import { createAuditRepository } from "./audit/audit.repository.js";
import { createAuditService } from "./audit/audit.service.js";
import { createLoginService } from "./auth/login.service.js";
import type { Clock } from "./clock.js";
import { PRODUCTION_LIMITS, type Limits } from "./config.js";
import { createContractRepository } from "./contracts/contract.repository.js";
import { createContractService } from "./contracts/contract.service.js";
import type { Db } from "./db/database.js";
import { createTransactions } from "./db/transactions.js";
import { createGuaranteeRepository, registerGuaranteeFunctions } from "./guarantees/guarantee.repository.js";
import { createGuaranteeService } from "./guarantees/guarantee.service.js";
import { createIssuanceService } from "./guarantees/issuance.service.js";
import { createHealthRepository } from "./health/health.repository.js";
import { createHoldingRepository } from "./holdings/holding.repository.js";
import { createHoldingService } from "./holdings/holding.service.js";
import { createIssuerRepository } from "./issuers/issuer.repository.js";
import { createIssuerService } from "./issuers/issuer.service.js";
import { createEventRepository } from "./notifications/event.repository.js";
import { createMailService, type NotificationSettings } from "./notifications/mail.service.js";
import { createMailboxRepository } from "./notifications/mailbox.repository.js";
import { createSecondFactorRepository } from "./mfa/second-factor.repository.js";
import { createSecondFactorService } from "./mfa/second-factor.service.js";
import { createNotificationService } from "./notifications/notification.service.js";
import { createOutboxRepository } from "./notifications/outbox.repository.js";
import { createWebhookRepository } from "./notifications/webhook.repository.js";
import { createWebhookService, type WebhookKeys, type WebhookSettings } from "./notifications/webhook.service.js";
import { createInvitationRepository } from "./officers/invitation.repository.js";
import { createInvitationService } from "./officers/invitation.service.js";
import { createOfficerAdministration } from "./officers/officer-administration.service.js";
import { createOfficerRepository } from "./officers/officer.repository.js";
import { createOfficerService } from "./officers/officer.service.js";
import { describeSendError, type MailTransport } from "./notifications/mailer.js";
import { createOrdererRepository } from "./orderers/orderer.repository.js";
import { createOrdererService } from "./orderers/orderer.service.js";
import { limitArgon2 } from "./security/argon2-limiter.js";
import type { Hasher } from "./security/hasher.js";
import { createOpener, createSealer, generateSealingKeys } from "./security/sealed-box.js";
import { NO_LOGIN_NAME_HASH, type LoginNameHash } from "./security/keyed-hash.js";
import { limitNewSessions } from "./sessions/new-session-limit.js";
import { SqliteSessionStore } from "./sessions/session-store.js";
import { createSessionRepository } from "./sessions/session.repository.js";
import { createSessionService } from "./sessions/session.service.js";
import { createRelyingParty } from "./sso/relying-party.js";
import { createSsoRepository } from "./sso/sso.repository.js";
import { createSsoSettingsService } from "./sso/sso-settings.service.js";
import { createSsoService } from "./sso/sso.service.js";
import { createAttemptThrottle } from "./throttling/attempt-throttle.js";
import { createLockoutService } from "./throttling/lockout.service.js";
import { createThrottleCounterRepository } from "./throttling/throttle-counter.repository.js";
import { createVerificationThrottle } from "./throttling/verification-throttle.js";
import { createVerificationService } from "./verification/verification.service.js";

/**
 * Every repository over one connection, each built here and nowhere else; the SQL functions the
 * repositories' queries call are registered on the connection first.
 */
export function createRepositories(db: Db) {
  registerGuaranteeFunctions(db);
  return {
    audit: createAuditRepository(db),
    auditCheckpoints: createAuditCheckpointRepository(db),
    issuers: createIssuerRepository(db),
    orderers: createOrdererRepository(db),
    officers: createOfficerRepository(db),
    secondFactors: createSecondFactorRepository(db),
    invitations: createInvitationRepository(db),
    sessions: createSessionRepository(db),
    guarantees: createGuaranteeRepository(db),
    holdings: createHoldingRepository(db),
    contracts: createContractRepository(db),
    events: createEventRepository(db),
    outbox: createOutboxRepository(db),
    mailboxes: createMailboxRepository(db),
    webhooks: createWebhookRepository(db),
    apiClients: createApiClientRepository(db),
    sso: createSsoRepository(db),
    throttleCounters: createThrottleCounterRepository(db),
    health: createHealthRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;

/** `loginNames`: the keyed hash of login ids that name no officer (from SESSION_SECRET); without
 * it, only what never meets such a login id works (the CLI run without SESSION_SECRET, benchmarks).
 * `tokenKeys`: the API access tokens' key pair; a new one per process unless given (tests sign their own tokens).
 * `webhooks`: the SSRF policy and the key pair sealing the endpoints' secrets, the officers' TOTP
 * secrets and the orderers' identity-provider client secrets (WEBHOOK_KEY_FILE); the policy's
 * `production` decides whether a provider may be plain http on loopback.
 * `smtp`: the relay (SMTP_URL) and MAIL_FROM for the mails sent while a request waits (invitations);
 * without it, officers are added with one-time passwords only. */
export type ServiceDeps = {
  db: Db; clock: Clock; hasher: Hasher; limits?: Limits; loginNames?: LoginNameHash; notifications?: NotificationSettings; tokenKeys?: TokenKeys;
  webhooks?: WebhookSettings; smtp?: { transport: MailTransport; from: string };
};

/** Where identity providers send officers back: `${PUBLIC_BASE_URL}/login/sso/callback`. */
export const SSO_CALLBACK_PATH = "/login/sso/callback";

/** Tests and tools that send no mail: links to a local service, mails held as not sent. */
const LOCAL_NOTIFICATIONS: NotificationSettings = { publicBaseUrl: "http://localhost:3000", smtpConfigured: false };

/** The service's webhook key pair (WEBHOOK_KEY_FILE, loaded at start) as the webhook service takes it. */
export function webhookKeysOf(pair: { publicKey: KeyObject; privateKey: KeyObject }): WebhookKeys {
  const sealer = createSealer(pair.publicKey);
  const opener = createOpener(pair.privateKey);
  return { sealer: () => sealer, opener: () => opener };
}

/** Keys that live as long as this set of services: what the process seals, it alone can open. */
export const inMemoryWebhookKeys = (): WebhookKeys => webhookKeysOf(generateSealingKeys());

/**
 * The composition root: every service once, over one database, each handed the repositories it
 * uses and the transaction helper. The web app and the admin CLI both run on what this returns.
 * Logins and verifications share one argon2 limiter (limits.argon2); issuance and the CLI's
 * password commands use the hasher as it is.
 */
export function createServices({
  db, clock, hasher, limits = PRODUCTION_LIMITS, loginNames = NO_LOGIN_NAME_HASH, notifications: settings = LOCAL_NOTIFICATIONS, tokenKeys,
  // Tests and tools: loopback receivers allowed, keys in memory. The service and the CLI pass their own.
  webhooks: webhookSettings = { policy: { production: false, allowedHosts: [] }, keys: inMemoryWebhookKeys() }, smtp,
}: ServiceDeps) {
  const repositories = createRepositories(db);
  const {
    audit: auditRows, auditCheckpoints, issuers, orderers, officers, invitations, sessions, guarantees, holdings, contracts, throttleCounters, events, outbox, mailboxes,
    apiClients, webhooks, secondFactors, sso,
  } = repositories;
  const tx = createTransactions(db);
  const audit = createAuditService({ audit: auditRows, checkpoints: auditCheckpoints, tx, clock });
  const attempts = createAttemptThrottle({ counters: throttleCounters, tx, clock });
  const onlineHasher = limitArgon2(hasher, limits.argon2);
  const officerService = createOfficerService({ officers, orderers, sessions, tx, clock, hasher, audit });
  const sessionService = createSessionService({ sessions, tx, audit });
  // TOTP secrets are sealed with the webhook secrets' key pair (WEBHOOK_KEY_FILE): one key to keep.
  const secondFactorService = createSecondFactorService({ factors: secondFactors, officers, sessions, tx, clock, audit, keys: webhookSettings.keys });
  const invitationService = createInvitationService({
    invitations, officers, officerService, mailboxesOf: mailboxes.list, tx, clock, hasher, audit,
    ...(smtp ? { mailer: { send: smtp.transport.send, describeError: describeSendError, from: smtp.from, publicBaseUrl: settings.publicBaseUrl } } : {}),
  });
  const mail = createMailService({ mailboxes, outbox, orderers, tx, clock, audit, settings });
  const webhookService = createWebhookService({ webhooks, outbox, orderers, tx, clock, audit, settings: webhookSettings });
  const notifications = createNotificationService({ events, contracts, mail, webhooks: webhookService, tx, clock, audit, settings });
  const verification = createVerificationService({
    guarantees, holdings, throttle: createVerificationThrottle(attempts, limits), tx, clock, hasher: onlineHasher, audit,
  });
  const holdingService = createHoldingService({ holdings, guarantees, tx, clock, audit });
  const production = webhookSettings.policy.production;
  const ssoSettings = createSsoSettingsService({ sso, orderers, officers, tx, clock, audit, sealer: webhookSettings.keys.sealer, production });
  // The address every provider sends the officer back to (register it with the provider).
  const relyingParty = createRelyingParty({ redirectUri: `${settings.publicBaseUrl}${SSO_CALLBACK_PATH}`, allowHttp: !production });
  const apiClientService = createApiClientService({ apiClients, orderers, attempts, limits, tx, clock, audit, loginNames });
  return {
    audit,
    attempts,
    issuers: createIssuerService({ issuers, tx, clock, audit }),
    orderers: createOrdererService({ orderers, tx, clock, audit }),
    officers: officerService,
    invitations: invitationService,
    /** What an orderer's administrator may do to its officers (/admin/officers). */
    officerAdministration: createOfficerAdministration({
      officers, officerService, invitations: invitationService, resetSecondFactor: secondFactorService.resetSecondFactor,
      providerLinks: { linkedOfficerIds: ssoSettings.linkedOfficerIds, unlink: ssoSettings.unlinkSubject },
    }),
    issuance: createIssuanceService({ guarantees, issuers, orderers, tx, clock, hasher, audit }),
    // Every change of a guarantee records its events in the change's own transaction.
    guarantees: createGuaranteeService({ guarantees, issuers, tx, clock, hasher, audit, onChange: notifications.recordGuaranteeChange }),
    notifications,
    mail,
    webhooks: webhookService,
    lockouts: createLockoutService({ counters: throttleCounters, tx, clock, audit, loginNames, isOfficerLogin: (login) => officers.findByLogin(login) !== undefined }),
    holdings: holdingService,
    contracts: createContractService({ contracts, tx, clock, audit }),
    secondFactors: secondFactorService,
    login: createLoginService({ officers: officerService, secondFactors: secondFactorService, sessions, attempts, tx, hasher: onlineHasher, audit, limits, loginNames }),
    sessions: sessionService,
    ssoSettings,
    sso: createSsoService({ sso, orderers, officers: officerService, tx, clock, audit, opener: webhookSettings.keys.opener, relyingParty, loginNames, attempts, limits }),
    verification,
    apiClients: apiClientService,
    /** The API over the same services; its token key lives as long as this process (see createAccessTokens). */
    api: createApiService({
      apiClients: apiClientService, tokens: createAccessTokens(clock, tokenKeys), verification, holdings: holdingService, events, tx, clock, audit,
    }),
    health: repositories.health,
    /** The web app's session store (it starts a purge timer, so it is built only by the app). */
    createSessionStore: () => new SqliteSessionStore(sessions, clock, limits.session, (sid, officerId) => {
      const officer = officers.findById(officerId);
      if (officer) sessionService.expire(sid, officer, "idle", null);
    }),
    /** DOS-04's gate on new anonymous sessions, for the login forms. */
    createNewSessionLimit: () => limitNewSessions(sessions, clock, limits.newSessions),
  };
}

export type Services = ReturnType<typeof createServices>;
