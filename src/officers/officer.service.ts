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

// An e-mail address may be a login id: an orderer's identity provider usually vouches for one.
const LOGIN_PATTERN = /^(?=.{3,64}$)[a-z0-9][a-z0-9._+-]*(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?$/;

export type AddedOfficer = { officer: Officer; initialPassword?: string };

export function createOfficerService(deps: {
  officers: OfficerRepository; orderers: OrdererRepository; sessions: SessionRepository; tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService;
}) {
  const { officers, orderers, sessions, tx: db, clock, hasher, audit } = deps;
  const now = () => clock.now().toISOString();
  const adminAudit = (event: string, actor: string, officer: Officer, outcome = "ok") =>
    audit.appendInTransaction({ event, outcome, actorKind: "admin", actor, officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login } });

  const insertOfficer = db.transaction((row: Parameters<typeof officers.insert>[0], actor: string) => {
    const id = officers.insert(row, now());
    if (id === undefined) return undefined;
    const officer = officers.findById(id)!;
    adminAudit("officer_add", actor, officer);
    return officer;
  });

  const replacePassword = db.transaction((officer: Officer, hash: string, mustChange: boolean, event: string, actor: string, actorKind: "admin" | "officer") => {
    officers.setPassword(officer.id, hash, mustChange, now());
    if (actorKind === "admin") {
      sessions.destroyByOfficer(officer.id);
      adminAudit(event, actor, officer);
    } else {
      audit.appendInTransaction({ event, outcome: "ok", actorKind, actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode });
    }
  });

  const setActive = db.transaction((officer: Officer, active: boolean, actor: string) => {
    officers.setActive(officer.id, active);
    if (!active) sessions.destroyByOfficer(officer.id);
    adminAudit(active ? "officer_enable" : "officer_disable", actor, officer);
  });

  // Counted and changed in one transaction, so two administrators unmaking each other at once cannot leave none.
  const changeRole = db.transaction((officer: Officer, role: OfficerRole, actor: string): Outcome<Officer> => {
    if (officer.role === "admin" && role !== "admin" && officer.active && officers.countActiveAdmins(officer.ordererId) <= 1) {
      return refusal({ field: "role", message: `${officer.login} is the last administrator of ${officer.ordererCode}: make another officer an administrator first` });
    }
    if (officer.role !== role) {
      officers.setRole(officer.id, role);
      audit.appendInTransaction({ event: "officer_role_change", outcome: role, actorKind: "admin", actor, officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login, from: officer.role } });
    }
    return success(officers.findById(officer.id)!);
  });

  const revokeSessions = db.transaction((officer: Officer, actor: string) => {
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
    async add(input: { ordererCode: string; login: string; displayName: string; password?: string; role?: string }, actor: string): Promise<Outcome<AddedOfficer>> {
      const role = parseRole(input.role ?? "officer");
      if (!role.ok) return role;
      const code = parseOrdererCode(input.ordererCode);
      if (!code.ok) return refusal({ field: "orderer", message: code.problems[0]!.message });
      const orderer = orderers.findByCode(code.value);
      if (!orderer) return refusal({ field: "orderer", message: `no orderer ${code.value} is registered (add it with "orderer add")` });
      const login = normalizeLogin(input.login);
      if (!LOGIN_PATTERN.test(login)) return refusal({ field: "login", message: "must be 3-64 characters: a-z, 0-9, '.', '_', '+' or '-', starting with a letter or digit, optionally followed by @ and a domain" });
      const displayName = normalizeText(input.displayName);
      if (displayName === "" || displayName.length > 100 || hasForbiddenCharacters(displayName)) {
        return refusal({ field: "name", message: "must be 1-100 printable characters" });
      }
      if (officers.findByLogin(login)) return refusal({ field: "login", message: `login "${login}" is already taken` });
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
      const officer = insertOfficer.immediate({ login, displayName, ordererId: orderer.id, passwordHash, mustChangePassword: initialPassword !== undefined, role: role.value }, actor);
      if (!officer) return refusal({ field: "login", message: `login "${login}" is already taken` });
      return success({ officer, initialPassword });
    },

    /** An admin reset: a new one-time password, every session of the officer ended. */
    async resetPassword(rawLogin: string, actor: string, chosen?: string): Promise<Outcome<AddedOfficer>> {
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      const officer = found.value;
      if (chosen !== undefined) {
        const problem = checkNewPassword(chosen, { login: officer.login, displayName: officer.displayName, ordererName: officer.ordererName });
        if (problem) return refusal({ field: "password", message: problem });
      }
      const initialPassword = chosen === undefined ? generateInitialPassword() : undefined;
      const hash = await hasher.hash(chosen === undefined ? initialPassword! : normalizePassword(chosen));
      replacePassword.immediate(officer, hash, chosen === undefined, "officer_password_reset", actor, "admin");
      return success({ officer: officers.findById(officer.id)!, initialPassword });
    },

    /** The officer's own change (after verifying the current password in the route's flow). */
    async changeOwnPassword(officer: Officer, newPassword: string): Promise<Outcome<Officer>> {
      const problem = checkNewPassword(newPassword, { login: officer.login, displayName: officer.displayName, ordererName: officer.ordererName });
      if (problem) return refusal({ field: "newPassword", message: problem });
      const hash = await hasher.hash(normalizePassword(newPassword));
      replacePassword.immediate(officer, hash, false, "officer_password_change", officer.login, "officer");
      return success(officers.findById(officer.id)!);
    },

    /** A successful login, for the administrators' list (in the login's audit transaction). */
    recordLogin: (officer: Officer) => officers.recordLogin(officer.id, now()),

    /** Re-hashes a password verified at login when the configured parameters changed. */
    async rehashIfNeeded(officer: Officer, password: string): Promise<void> {
      if (!hasher.needsRehash(officer.passwordHash)) return;
      officers.setPassword(officer.id, await hasher.hash(normalizePassword(password)), officer.mustChangePassword, now());
    },

    setActive(rawLogin: string, active: boolean, actor: string): Outcome<Officer> {
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      setActive.immediate(found.value, active, actor);
      return success(officers.findById(found.value.id)!);
    },

    /** Makes or unmakes an administrator of the officer's orderer; never the orderer's last one. */
    setRole(rawLogin: string, rawRole: string, actor: string): Outcome<Officer> {
      const role = parseRole(rawRole);
      if (!role.ok) return role;
      const found = findOrRefuse(rawLogin);
      if (!found.ok) return found;
      return changeRole.immediate(found.value, role.value, actor);
    },

    revokeSessions(rawLogin: string, actor: string): Outcome<number> {
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
