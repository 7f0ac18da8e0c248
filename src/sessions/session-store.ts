import session from "express-session";
import type { Clock } from "../clock.js";
import type { SessionRepository } from "./session.repository.js";

type Callback = (err?: unknown, data?: session.SessionData | null) => void;

/**
 * express-session Store over our own `sessions` table. The one better-sqlite3 store on npm is
 * GPL-3.0 and keeps the process alive with an un-unref'd timer; this one is ~60 lines.
 * The officer id is kept in a column so that disabling an officer ends their sessions at once.
 */
export class SqliteSessionStore extends session.Store {
  private readonly purgeTimer: NodeJS.Timeout;

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

  private expiresAt(data: session.SessionData): number {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires).getTime() : this.clock.now().getTime() + this.idleMs;
  }

  override get(sid: string, callback: Callback): void {
    try {
      const raw = this.sessions.get(sid, this.clock.now().getTime());
      callback(null, raw === undefined ? null : (JSON.parse(raw) as session.SessionData));
    } catch (error) {
      callback(error);
    }
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const officerId = (data as { passport?: { user?: { id?: number } } }).passport?.user?.id ?? null;
      this.sessions.set(sid, officerId, JSON.stringify(data), this.expiresAt(data));
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    this.sessions.touch(sid, this.expiresAt(data));
    callback?.();
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
