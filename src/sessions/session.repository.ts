import { createHash } from "node:crypto";
import type { Db } from "../db/database.js";

/** Rows are keyed on SHA-256 of the session id, so the database and its backups hold no usable id. */
const rowKey = (sid: string) => createHash("sha256").update(sid).digest("hex");

/** An idle session's expiry is pushed forward at most this often: each push is a write. */
export const TOUCH_INTERVAL_MS = 60_000;

export function createSessionRepository(db: Db) {
  const get = db.prepare<[string, number], { data: string }>("SELECT data FROM sessions WHERE sid = ? AND expires_at > ? AND ended = 0");
  const expiredOfficer = db.prepare<[string, number], { officerId: number }>(
    "SELECT officer_id AS officerId FROM sessions WHERE sid = ? AND expires_at <= ? AND ended = 0 AND officer_id IS NOT NULL");
  // created_at and client_address are the row's first: a later save of the same session keeps them.
  // An anonymous row keeps its first expiry too (DOS-04: a login form's session lives a fixed time,
  // however often the form is reloaded); an officer's row has its expiry pushed. An ended row is
  // never written again: the save of a request that was in flight when it ended changes nothing.
  const upsert = db.prepare(`
    INSERT INTO sessions (sid, officer_id, data, expires_at, client_address, created_at)
    VALUES (@sid, @officerId, @data, @expiresAt, @clientAddress, @createdAt)
    ON CONFLICT (sid) DO UPDATE SET officer_id = excluded.officer_id, data = excluded.data,
      expires_at = CASE WHEN excluded.officer_id IS NULL AND sessions.officer_id IS NULL THEN sessions.expires_at ELSE excluded.expires_at END
     WHERE sessions.ended = 0`);
  const touch = db.prepare(`
    UPDATE sessions SET expires_at = @expiresAt
     WHERE sid = @sid AND officer_id IS NOT NULL AND ended = 0 AND expires_at < @expiresAt - ${TOUCH_INTERVAL_MS}`);
  // An officer's session ends as a marker (see upsert); an anonymous one, which grants nothing, goes.
  const END = "UPDATE sessions SET ended = 1, data = '{}' WHERE ended = 0 AND officer_id IS NOT NULL";
  const endOne = db.prepare(`${END} AND sid = ?`);
  const deleteAnonymous = db.prepare("DELETE FROM sessions WHERE sid = ? AND officer_id IS NULL");
  const purge = db.prepare("DELETE FROM sessions WHERE expires_at <= ?");
  const deleteAll = db.prepare("DELETE FROM sessions");
  const endByOfficer = db.prepare(`${END} AND officer_id = ?`);
  const endAllOfficers = db.prepare(END);
  const endOthers = db.prepare(`${END} AND officer_id = ? AND sid <> ?`);
  const countByOfficer = db.prepare<[number, number], { n: number }>("SELECT count(*) AS n FROM sessions WHERE officer_id = ? AND expires_at > ? AND ended = 0");
  const countAnonymous = db.prepare<{ clientAddress: string; since: number; now: number }, { n: number }>(`
    SELECT count(*) AS n FROM sessions
     WHERE officer_id IS NULL AND client_address = @clientAddress AND created_at > @since AND expires_at > @now`);
  return {
    get: (sid: string, nowMs: number) => get.get(rowKey(sid), nowMs)?.data,
    /** The officer of a session that has run out (idle) but not yet been ended or purged. */
    expiredOfficerOf: (sid: string, nowMs: number) => expiredOfficer.get(rowKey(sid), nowMs)?.officerId,
    set: (sid: string, row: { officerId: number | null; data: string; expiresAt: number; clientAddress: string | null; nowMs: number }) =>
      void upsert.run({ sid: rowKey(sid), officerId: row.officerId, data: row.data, expiresAt: row.expiresAt, clientAddress: row.clientAddress, createdAt: row.nowMs }),
    touch: (sid: string, expiresAt: number) => void touch.run({ sid: rowKey(sid), expiresAt }),
    destroy: (sid: string) => {
      const key = rowKey(sid);
      endOne.run(key);
      deleteAnonymous.run(key);
    },
    purgeExpired: (nowMs: number) => purge.run(nowMs).changes,
    /** Every session, ended or not, goes (a restored database: everyone logs in again). */
    deleteAll: () => deleteAll.run().changes,
    /** Ends every session of one officer at once (disabling, password reset, admin revoke). */
    destroyByOfficer: (officerId: number) => endByOfficer.run(officerId).changes,
    /** Ends every officer's every session at once (admin `sessions revoke --all`). */
    destroyAllOfficers: () => endAllOfficers.run().changes,
    /** Ends every other session of the officer (after a password change), keeping `keepSid`. */
    destroyByOfficerExcept: (officerId: number, keepSid: string) => endOthers.run(officerId, rowKey(keepSid)).changes,
    countActiveByOfficer: (officerId: number, nowMs: number) => countByOfficer.get(officerId, nowMs)!.n,
    /** Live anonymous sessions that `clientAddress` started after `sinceMs` (DOS-04). */
    countRecentAnonymous: (clientAddress: string, sinceMs: number, nowMs: number) => countAnonymous.get({ clientAddress, since: sinceMs, now: nowMs })!.n,
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
