import type { AuditService } from "../audit/audit.service.js";
import type { Transactions } from "../db/transactions.js";
import type { SessionRepository } from "./session.repository.js";

export type SessionEnd = "idle" | "absolute";

/** Who a session belongs to, as the audit names them (an Officer is one; officers imports sessions, not the reverse). */
export type SessionOwner = { id: number; login: string; ordererCode: string };

/**
 * The ends of officer sessions, each audited in the transaction that ends it: logout, an idle or
 * absolute timeout, an admin's `sessions revoke --all`. An ended session stays as an empty marker
 * (see the repository), so a request still in flight cannot write it back.
 */
export function createSessionService(deps: { sessions: SessionRepository; tx: Transactions; audit: AuditService }) {
  const { sessions, tx, audit } = deps;
  // CSRF refusals of a logged-in officer: a burst commits as one transaction, one disk sync.
  const refusals = tx.groupCommit();

  const endOne = tx.transaction((sid: string, officer: SessionOwner, event: string, outcome: string, clientAddress: string | null) => {
    sessions.destroy(sid);
    audit.appendInTransaction({
      event, outcome, actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode, clientAddress,
    });
  });

  const endAll = tx.transaction((actor: string) => {
    const ended = sessions.destroyAllOfficers();
    audit.appendInTransaction({ event: "sessions_revoke_all", outcome: "ok", actorKind: "admin", actor, detail: { ended } });
    return ended;
  });

  return {
    /** POST /logout: the session ends as a marker before passport touches it. */
    logOut(sid: string, officer: SessionOwner, clientAddress: string): void {
      endOne.immediate(sid, officer, "authn_logout", "ok", clientAddress);
    },
    /** requireLogin found the session past its idle or absolute timeout, or the store found its row run out (no address then). */
    expire(sid: string, officer: SessionOwner, reason: SessionEnd, clientAddress: string | null): void {
      endOne.immediate(sid, officer, "session_expired", reason, clientAddress);
    },
    /** `npm run admin -- sessions revoke --all`: every officer logs in again; returns how many sessions ended. */
    revokeAll(actor: string): number {
      return endAll.immediate(actor);
    },
    /** A logged-in officer's POST refused for its CSRF token or its origin (never the token itself). */
    recordCsrfRefusal(officer: SessionOwner, reason: string, clientAddress: string, path: string): Promise<void> {
      return refusals.write(() => audit.appendInTransaction({
        event: "csrf_refused", outcome: reason, actorKind: "officer", actor: officer.login,
        officerId: officer.id, ordererCode: officer.ordererCode, clientAddress, detail: { path },
      }));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
