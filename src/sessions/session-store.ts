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
    private readonly timeouts: { idleMs: number; anonymousLifetimeMs: number },
    /** Told when an officer's session is found idled out (the row ran out before any guard saw it), to audit it. */
    private readonly onIdleExpiry: (sid: string, officerId: number) => void = () => {},
    purgeEveryMs = 10 * 60 * 1000,
  ) {
    super();
    this.purgeTimer = setInterval(() => this.sessions.purgeExpired(this.clock.now().getTime()), purgeEveryMs);
    this.purgeTimer.unref();
  }

  // From the injected clock, not from the cookie's expiry (which express-session computes from the
  // system clock), so that the row's lifetime and the guards' idle timeout agree in tests too.
  // An anonymous session (a login form's token) lives a fixed, shorter time from its start (DOS-04;
  // the repository never pushes its expiry). An officer's absolute timeout is the guards' business
  // (requireLogin).
  private expiresAt(officerId: number | null): number {
    return this.clock.now().getTime() + (officerId === null ? this.timeouts.anonymousLifetimeMs : this.timeouts.idleMs);
  }

  override get(sid: string, callback: Callback): void {
    let raw: string | undefined;
    try {
      const now = this.clock.now().getTime();
      raw = this.sessions.get(sid, now);
      // An expired row goes at once rather than at the next purge. Only correctly signed cookies
      // reach the store, so a flood of made-up ids cannot turn this into writes.
      if (raw === undefined) {
        const officerId = this.sessions.expiredOfficerOf(sid, now);
        if (officerId !== undefined) this.onIdleExpiry(sid, officerId);
        this.sessions.destroy(sid);
      }
    } catch (error) {
      return callback(error);
    }
    callback(null, raw === undefined ? null : parseSession(raw));
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const officerId = officerIdOf(data);
      this.sessions.set(sid, {
        officerId, data: JSON.stringify(data), expiresAt: this.expiresAt(officerId),
        clientAddress: data.clientAddress ?? null, nowMs: this.clock.now().getTime(),
      });
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const officerId = officerIdOf(data);
      if (officerId !== null) this.sessions.touch(sid, this.expiresAt(officerId));
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

/** The logged-in officer's id, which passport keeps in the session; null for an anonymous session. */
function officerIdOf(data: session.SessionData): number | null {
  return (data as { passport?: { user?: { id?: number } } }).passport?.user?.id ?? null;
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
