import type { Clock } from "../clock.js";
import type { ScopePolicy } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import type { Counter, ThrottleCounterRepository, ThrottleScope } from "./throttle-counter.repository.js";

export type { ThrottleScope };

/** Counters untouched this long, with no live block, are forgotten (unknown login ids above all). */
export const COUNTER_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** How often a reservation also purges forgotten counters: the purge needs no timer of its own. */
const PURGE_EVERY_MS = 3600 * 1000;

export type ThrottleKey = { scope: ThrottleScope; key: string; policy: ScopePolicy };

/** A counter crossing a threshold: the first delay, a block, or a lock (all audited by the callers). */
export type Escalation = { scope: ThrottleScope; key: string; kind: "delay" | "block" | "lock"; failures: number; untilMs: number | null };

export type Attempt =
  | {
      allowed: true;
      /** The secret matched: a consecutive count starts again; a window gets its attempt back. */
      succeeded(): void;
      /** The attempt failed; returns the thresholds it crossed. Runs inside the caller's transaction if one is open. */
      failed(): Escalation[];
      /** The attempt never happened (argon2 was too busy to run it): the reservation is undone. */
      release(): void;
    }
  | { allowed: false; retryAfterSeconds: number; locked: boolean };

const EMPTY = (now: number): Counter => ({ failures: 0, window_start: now, blocked_until: 0, locked: 0 });

/** A window that has run out starts again, but a block earned in it lasts its full length. */
function rolled(policy: ScopePolicy, c: Counter, now: number): Counter {
  if (policy.kind === "window" && now - c.window_start >= policy.windowMs) return { ...c, failures: 0, window_start: now };
  return c;
}

/** Milliseconds until an attempt may go ahead: 0 now, Infinity while locked. */
function waitMs(c: Counter, now: number): number {
  if (c.locked) return Infinity;
  return c.blocked_until > now ? c.blocked_until - now : 0;
}

/** The delay, block or lock that `c.failures` failures earn, as of now. */
function penalised(policy: ScopePolicy, c: Counter, now: number): Counter {
  if (policy.kind === "window") {
    return c.failures >= policy.limit ? { ...c, blocked_until: Math.max(c.blocked_until, now + policy.blockMs) } : c;
  }
  if (c.failures >= policy.lockAt) return { ...c, locked: 1 };
  if (c.failures >= policy.delayFrom) {
    const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(30, c.failures - policy.delayFrom));
    return { ...c, blocked_until: Math.max(c.blocked_until, now + delay) };
  }
  return c;
}

function escalation(key: ThrottleKey, failures: number, c: Counter): Escalation | undefined {
  const p = key.policy;
  if (p.kind === "window") {
    return failures === p.limit ? { scope: key.scope, key: key.key, kind: "block", failures, untilMs: c.blocked_until } : undefined;
  }
  if (failures === p.lockAt) return { scope: key.scope, key: key.key, kind: "lock", failures, untilMs: null };
  if (failures === p.delayFrom) return { scope: key.scope, key: key.key, kind: "delay", failures, untilMs: c.blocked_until };
  return undefined;
}

/**
 * Failure counters in SQLite (they survive a restart). An attempt is reserved in one immediate
 * transaction *before* any argon2 work, and reserved pessimistically: it is counted as a failure
 * and earns its delay or block at once, so that 50 parallel tries against a limit of 5 see the
 * limit after the fifth reservation, not after the fifth argon2 verification has finished.
 * A refused attempt writes nothing.
 */
export function createAttemptThrottle(deps: { counters: ThrottleCounterRepository; tx: Transactions; clock: Clock }) {
  const { counters, tx: db, clock } = deps;
  const read = (k: ThrottleKey, now: number): Counter => counters.get(k.scope, k.key) ?? EMPTY(now);
  // Inside the caller's transaction (the audit and the counters commit together) or on its own.
  const run = <A extends unknown[], R>(tx: { (...a: A): R; immediate(...a: A): R }, ...args: A): R =>
    db.inTransaction ? tx(...args) : tx.immediate(...args);

  let purgedAt = -Infinity;
  const reserve = db.transaction((keys: ThrottleKey[]): { wait: number; reserved: number[] } => {
    const now = clock.now().getTime();
    if (now - purgedAt >= PURGE_EVERY_MS) {
      counters.purgeUntouched(now - COUNTER_RETENTION_MS, now);
      purgedAt = now;
    }
    const states = keys.map((k) => ({ k, c: rolled(k.policy, read(k, now), now) }));
    const wait = Math.max(0, ...states.map((s) => waitMs(s.c, now)));
    if (wait > 0) return { wait, reserved: [] };
    const reserved: number[] = [];
    for (const { k, c } of states) {
      const next = penalised(k.policy, { ...c, failures: c.failures + 1 }, now);
      counters.put(k.scope, k.key, next, now);
      reserved.push(next.failures);
    }
    return { wait: 0, reserved };
  });

  const succeed = db.transaction((keys: ThrottleKey[]) => {
    const now = clock.now().getTime();
    for (const k of keys) {
      const c = read(k, now);
      if (k.policy.kind === "consecutive") counters.put(k.scope, k.key, { ...c, failures: 0, blocked_until: 0, locked: 0 }, now);
      else counters.put(k.scope, k.key, unreserved(k.policy, c), now);
    }
  });

  const release = db.transaction((keys: ThrottleKey[]) => {
    const now = clock.now().getTime();
    for (const k of keys) counters.put(k.scope, k.key, unreserved(k.policy, read(k, now)), now);
  });

  // The failure was counted and penalised at reservation; what is left is to say which thresholds it crossed.
  const fail = db.transaction((keys: ThrottleKey[], reserved: number[]): Escalation[] => {
    const now = clock.now().getTime();
    const crossed: Escalation[] = [];
    keys.forEach((k, i) => {
      const e = escalation(k, reserved[i]!, read(k, now));
      if (e) crossed.push(e);
    });
    return crossed;
  });

  return {
    reserve(keys: ThrottleKey[]): Attempt {
      // Unsynced: nobody is answered before the outcome's own (synced) commit, which makes it durable too.
      const { wait, reserved } = db.unsynced(reserve, keys);
      if (wait > 0) {
        const locked = !Number.isFinite(wait);
        return { allowed: false, locked, retryAfterSeconds: locked ? 3600 : Math.max(1, Math.ceil(wait / 1000)) };
      }
      let settled = false;
      const once = <R>(f: () => R): R => {
        if (settled) throw new Error("attempt already settled");
        settled = true;
        return f();
      };
      return {
        allowed: true,
        succeeded: () => once(() => run(succeed, keys)),
        failed: () => once(() => run(fail, keys, reserved)),
        release: () => once(() => run(release, keys)),
      };
    },
  };
}

/** Gives back one reserved failure, and the block or lock that only it had earned. */
function unreserved(policy: ScopePolicy, c: Counter): Counter {
  const failures = Math.max(0, c.failures - 1);
  if (policy.kind === "window") return { ...c, failures, blocked_until: failures < policy.limit ? 0 : c.blocked_until };
  return {
    ...c,
    failures,
    blocked_until: failures < policy.delayFrom ? 0 : c.blocked_until,
    locked: failures < policy.lockAt ? 0 : c.locked,
  };
}

export type AttemptThrottle = ReturnType<typeof createAttemptThrottle>;
