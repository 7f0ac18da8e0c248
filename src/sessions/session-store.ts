import session from "express-session";
import type { Clock } from "../clock.js";
import { TOUCH_INTERVAL_MS, type SessionRepository } from "./session.repository.js";

type Callback = (err?: unknown, data?: session.SessionData | null) => void;

/**
 * express-session Store over our own `sessions` table. The one better-sqlite3 store on npm is
 * GPL-3.0 and keeps the process alive with an un-unref'd timer; this one is ~60 lines.
 * The officer id is kept in a column so that disabling an officer ends their sessions at once.
 */
export class SqliteSessionStore extends session.Store {
  private readonly purgeTimer: NodeJS.Timeout;
  /** The row's expiry as read, per loaded session: a request that comes within TOUCH_INTERVAL_MS of
   * the last push then costs no write, nor even the UPDATE that would find nothing to change. */
  private readonly loadedExpiry = new WeakMap<object, number>();

  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
    private readonly idleMs: number,
    purgeEveryMs = 10 * 60 * 1000,
  ) {
    super();
    this.purgeTimer = setInterval(() => this.sessions.purgeExpired(this.clock.now().getTime()), purgeEveryMs);
    this.purgeTimer.unref();
  }

  // From the injected clock, not from the cookie's expiry (which express-session computes from the
  // system clock), so that the row's lifetime and the guards' idle timeout agree in tests too.
  // The absolute timeout is the guards' business (requireLogin).
  private expiresAt(): number {
    return this.clock.now().getTime() + this.idleMs;
  }

  override get(sid: string, callback: Callback): void {
    let row: { data: string; expiresAt: number } | undefined;
    try {
      row = this.sessions.get(sid, this.clock.now().getTime());
      // An expired row goes at once rather than at the next purge. Only correctly signed cookies
      // reach the store, so a flood of made-up ids cannot turn this into writes.
      if (row === undefined) this.sessions.destroy(sid);
    } catch (error) {
      return callback(error);
    }
    const data = row === undefined ? null : parseSession(row.data);
    if (data) this.loadedExpiry.set(data, row!.expiresAt);
    callback(null, data);
  }

  override createSession(req: Parameters<session.Store["createSession"]>[0], data: session.SessionData): session.Session & Partial<session.SessionData> {
    const created = super.createSession(req, data);
    const expiresAt = this.loadedExpiry.get(data);
    if (expiresAt !== undefined) this.loadedExpiry.set(created, expiresAt);
    return created;
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const officerId = (data as { passport?: { user?: { id?: number } } }).passport?.user?.id ?? null;
      this.sessions.set(sid, officerId, JSON.stringify(data), this.expiresAt());
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const expiresAt = this.expiresAt();
      if ((this.loadedExpiry.get(data) ?? -Infinity) >= expiresAt - TOUCH_INTERVAL_MS) return callback?.();
      this.sessions.touch(sid, expiresAt);
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    try {
      this.sessions.destroy(sid);
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  close(): void {
    clearInterval(this.purgeTimer);
  }
}

/** A row that does not hold a session object is treated as no session (a new one starts), never a 500. */
function parseSession(raw: string): session.SessionData | null {
  try {
    const data = JSON.parse(raw) as unknown;
    const cookie = (data as { cookie?: unknown } | null)?.cookie;
    return data && typeof data === "object" && !Array.isArray(data) && cookie && typeof cookie === "object" ? (data as session.SessionData) : null;
  } catch {
    return null;
  }
}
