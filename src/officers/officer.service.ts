import { randomBytes } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { hasForbiddenCharacters, normalizeLogin, normalizeText } from "../format/normalize.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Hasher } from "../security/hasher.js";
import { generateInitialPassword } from "../security/secrets.js";
import type { SessionRepository } from "../sessions/session.repository.js";
import { OFFICER_ROLES, type Officer, type OfficerRepository, type OfficerRole } from "./officer.repository.js";
import { checkNewPassword, normalizePassword } from "./password-policy.js";

/** What a login id may be, once normalised. */
// An e-mail address may be a login id: an orderer's identity provider usually vouches for one.
export const LOGIN_PATTERN = /^(?=.{3,64}$)[a-z0-9][a-z0-9._+-]*(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?$/;

/** A display name, once normalised: 1-100 printable characters. */
export const isDisplayName = (name: string) => name !== "" && name.length <= 100 && !hasForbiddenCharacters(name);

export type NewOfficerInput = { ordererCode: string; login: string; displayName: string; role?: string };

export type AddedOfficer = { officer: Officer; initialPassword?: string };

/** Who changes an account: the issuer's CLI operator (a name, audited as "admin"), or an orderer's
 * administrator acting from /admin (audited as the officer they are). */
export type Actor = string | Officer;

/** The audit row's actor for `actor`: kind and name. */
export const auditActor = (actor: Actor) =>
  typeof actor === "string" ? { actorKind: "admin" as const, actor } : { actorKind: "officer" as const, actor: actor.login };

export function createOfficerService(deps: {
  officers: OfficerRepository; orderers: OrdererRepository; sessions: SessionRepository; tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService;
}) {
  const { officers, orderers, sessions, tx: db, clock, hasher, audit } = deps;
  const now = () => clock.now().toISOString();
  const adminAudit = (event: string, actor: Actor, officer: Officer, outcome = "ok") =>
    audit.appendInTransaction({ event, outcome, ...auditActor(actor), officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login } });

  const insertOfficer = db.transaction((row: Parameters<typeof officers.insert>[0], actor: Actor, outcome: string, also?: (officer: Officer) => void) => {
    const id = officers.insert(row, now());
    if (id === undefined) return undefined;
    const officer = officers.findById(id)!;
    also?.(officer);
    adminAudit("officer_add", actor, officer, outcome);
    return officer;
  });

  function checkNewOfficer(input: NewOfficerInput): Outcome<{ orderer: { id: number; name: string }; login: string; displayName: string; role: OfficerRole }> {
    const role = parseRole(input.role ?? "officer");
    if (!role.ok) return role;
    const code = parseOrdererCode(input.ordererCode);
    if (!code.ok) return refusal({ field: "orderer", message: code.problems[0]!.message });
    const orderer = orderers.findByCode(code.value);
    if (!orderer) return refusal({ field: "orderer", message: `no orderer ${code.value} is registered (add it with "orderer add")` });
    const login = normalizeLogin(input.login);
    if (!LOGIN_PATTERN.test(login)) return refusal({ field: "login", message: "must be 3-64 characters: a-z, 0-9, '.', '_', '+' or '-', starting with a letter or digit, optionally followed by @ and a domain" });
    const displayName = normalizeText(input.displayName);
    if (!isDisplayName(displayName)) return refusal({ field: "name", message: "must be 1-100 printable characters" });
    if (officers.findByLogin(login)) return refusal({ field: "login", message: `login "${login}" is already taken` });
    return success({ orderer, login, displayName, role: role.value });
  }

  // actor null: the officer's own change, which keeps their sessions (the caller ends the others).
  const replacePassword = db.transaction((officer: Officer, hash: string, mustChange: boolean, event: string, actor: Actor | null) => {
    officers.setPassword(officer.id, hash, mustChange, now());
    if (actor !== null) {
      sessions.destroyByOfficer(officer.id);
      adminAudit(event, actor, officer);
    } else {
      audit.appendInTransaction({ event, outcome: "ok", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode });
    }
  });

  const setActive = db.transaction((officer: Officer, active: boolean, actor: Actor) => {
    officers.setActive(officer.id, active);
    if (!active) sessions.destroyByOfficer(officer.id);
    adminAudit(active ? "officer_enable" : "officer_disable", actor, officer);
  });

  // Counted and changed in one transaction, so two administrators unmaking each other at once cannot leave none.
  const changeRole = db.transaction((officer: Officer, role: OfficerRole, actor: Actor): Outcome<Officer> => {
    if (officer.role === "admin" && role !== "admin" && officer.active && officers.countActiveAdmins(officer.ordererId) <= 1) {
      return refusal({ field: "role", message: `${officer.login} is the last administrator of ${officer.ordererCode}: make another officer an administrator first` });
    }
    if (officer.role !== role) {
      officers.setRole(officer.id, role);
      audit.appendInTransaction({ event: "officer_role_change", outcome: role, ...auditActor(actor), officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login, from: officer.role } });
    }
    return success(officers.findById(officer.id)!);
  });

  const revokeSessions = db.transaction((officer: Officer, actor: Actor) => {
    const ended = sessions.destroyByOfficer(officer.id);
    adminAudit("officer_sessions_revoke", actor, officer, `${ended} ended`);
    return ended;
  });

  function findOrRefuse(rawLogin: string): Outcome<Officer> {
    const officer = officers.findByLogin(normalizeLogin(rawLogin));
    return officer ? success(officer) : refusal({ field: "login", message: `no officer with login "${normalizeLogin(rawLogin)}"` });
  }

  return {
    findByLogin: (rawLogin: string) => officers.findByLogin(normalizeLogin(rawLogin)),
    findById: officers.findById,
    list: (ordererCode?: string) => (ordererCode ? officers.listByOrderer(ordererCode) : officers.list()),

    /** Registers an officer of an orderer. Without a chosen password a one-time password is generated
     * and returned (to be shown once); the officer must replace it at first login. */
    async add(input: NewOfficerInput & { password?: string }, actor: Actor): Promise<Outcome<AddedOfficer>> {
      const checked = checkNewOfficer(input);
      if (!checked.ok) return checked;
      const { orderer, login, displayName, role } = checked.value;
      let initialPassword: string | undefined;
      let password: string;
      if (input.password !== undefined) {
        const problem = checkNewPassword(input.password, { login, displayName, ordererName: orderer.name });
        if (problem) return refusal({ field: "password", message: problem });
        password = normalizePassword(input.password);
      } else {
        initialPassword = generateInitialPassword();
        password = initialPassword;
      }
      const passwordHash = await hasher.hash(password);
      const officer = insertOfficer.immediate({ login, displayName, ordererId: orderer.id, passwordHash, mustChangePassword: initialPassword !== undefined, role }, actor, "ok");
      if (!officer) return refusal({ field: "login", message: `login "${login}" is already taken` });
      return success({ officer, initialPassword });
    },

    /**
     * Registers an invited officer: disabled, under a password nobody knows, until they set their
     * own through the invitation. `send` runs once the input is accepted and before anything is
     * stored (a failed mail leaves nothing behind); `record` stores the invitation in the officer's
     * own transaction.
     */
    async addInvited(input: NewOfficerInput, actor: Actor, invitation: { send(): Promise<Outcome<void>>; record(officer: Officer): void }): Promise<Outcome<Officer>> {
      const checked = checkNewOfficer(input);
      if (!checked.ok) return checked;
      const { orderer, login, displayName, role } = checked.value;
      const passwordHash = await hasher.hash(randomBytes(32).toString("base64url"));
      const sent = await invitation.send();
      if (!sent.ok) return sent;
      const officer = insertOfficer.immediate({ login, displayName, ordererId: orderer.id, passwordHash, mustChangePassword: false, role, active: false }, actor, "invited", invitation.record);
      if (!officer) return refusal({ field: "login", message: `login "${login}" is already taken` });
      return success(officer);
    },

    /** An invitation accepted: the officer's own password, the account enabled (in `accept`'s transaction, which audits). */
    activateInvited: (officer: Officer, passwordHash: string) => {
      officers.setPassword(officer.id, passwordHash, false, now());
      officers.setActive(officer.id, true);
    },

    /** An admin reset: a new one-time password, every session of the officer ended. */
    async resetPassword(rawLogin: string, actor: Actor, chosen?: string): Promise<Outcome<AddedOfficer>> {
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      const officer = found.value;
      if (chosen !== undefined) {
        const problem = checkNewPassword(chosen, { login: officer.login, displayName: officer.displayName, ordererName: officer.ordererName });
        if (problem) return refusal({ field: "password", message: problem });
      }
      const initialPassword = chosen === undefined ? generateInitialPassword() : undefined;
      const hash = await hasher.hash(chosen === undefined ? initialPassword! : normalizePassword(chosen));
      replacePassword.immediate(officer, hash, chosen === undefined, "officer_password_reset", actor);
      return success({ officer: officers.findById(officer.id)!, initialPassword });
    },

    /** The officer's own change (after verifying the current password in the route's flow). */
    async changeOwnPassword(officer: Officer, newPassword: string): Promise<Outcome<Officer>> {
      const problem = checkNewPassword(newPassword, { login: officer.login, displayName: officer.displayName, ordererName: officer.ordererName });
      if (problem) return refusal({ field: "newPassword", message: problem });
      const hash = await hasher.hash(normalizePassword(newPassword));
      replacePassword.immediate(officer, hash, false, "officer_password_change", null);
      return success(officers.findById(officer.id)!);
    },

    /** A successful login, for the administrators' list (in the login's audit transaction). */
    recordLogin: (officer: Officer) => officers.recordLogin(officer.id, now()),

    /** Re-hashes a password verified at login when the configured parameters changed. */
    async rehashIfNeeded(officer: Officer, password: string): Promise<void> {
      if (!hasher.needsRehash(officer.passwordHash)) return;
      officers.setPassword(officer.id, await hasher.hash(normalizePassword(password)), officer.mustChangePassword, now());
    },

    setActive(rawLogin: string, active: boolean, actor: Actor): Outcome<Officer> {
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      setActive.immediate(found.value, active, actor);
      return success(officers.findById(found.value.id)!);
    },

    /** Makes or unmakes an administrator of the officer's orderer; never the orderer's last one. */
    setRole(rawLogin: string, rawRole: string, actor: Actor): Outcome<Officer> {
      const role = parseRole(rawRole);
      if (!role.ok) return role;
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      return changeRole.immediate(found.value, role.value, actor);
    },

    revokeSessions(rawLogin: string, actor: Actor): Outcome<number> {
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      return success(revokeSessions.immediate(found.value, actor));
    },
  };
}

function parseRole(raw: string): Outcome<OfficerRole> {
  const role = OFFICER_ROLES.find((r) => r === raw.trim());
  return role ? success(role) : refusal({ field: "role", message: `must be one of: ${OFFICER_ROLES.join(", ")}` });
}

export type OfficerService = ReturnType<typeof createOfficerService>;
