import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import type { Reservation, ThrottleKeys, VerificationThrottle } from "./throttle.js";

type Scope = "officer" | "contract" | "address" | "login";

/**
 * A scope's rule. "window": at most `limit` failures per window, then blocked for `blockMs`.
 * "consecutive": failures until a success; from `delayFrom` on a delay of 30 s doubling up to
 * `maxDelayMs`; at `lockAt` locked until an admin unlocks.
 */
export type ScopePolicy =
  | { kind: "window"; limit: number; windowMs: number; blockMs: number }
  | { kind: "consecutive"; delayFrom: number; firstDelayMs: number; maxDelayMs: number; lockAt: number };

export type ThrottlePolicy = { officer: ScopePolicy; contract: ScopePolicy; address: ScopePolicy };

const MINUTE = 60_000;

/** Security checklist RL-*, KEY-06: the production numbers. */
export const VERIFICATION_POLICY: ThrottlePolicy = {
  officer: { kind: "window", limit: 10, windowMs: 15 * MINUTE, blockMs: 15 * MINUTE },
  contract: { kind: "consecutive", delayFrom: 20, firstDelayMs: 30_000, maxDelayMs: 60 * MINUTE, lockAt: 100 },
  address: { kind: "window", limit: 100, windowMs: 24 * 60 * MINUTE, blockMs: 24 * 60 * MINUTE },
};

type Counter = { failures: number; window_start: number; blocked_until: number; locked: number };

export function createThrottleCounters(db: Db) {
  const get = db.prepare<[Scope, string], Counter>("SELECT failures, window_start, blocked_until, locked FROM throttle_counters WHERE scope = ? AND key = ?");
  const put = db.prepare(`
    INSERT INTO throttle_counters (scope, key, failures, window_start, blocked_until, locked)
    VALUES (@scope, @key, @failures, @window_start, @blocked_until, @locked)
    ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
      blocked_until = excluded.blocked_until, locked = excluded.locked`);
  const unlock = db.prepare("DELETE FROM throttle_counters WHERE scope = ? AND key = ?");
  return {
    get: (scope: Scope, key: string, now: number): Counter => get.get(scope, key) ?? { failures: 0, window_start: now, blocked_until: 0, locked: 0 },
    put: (scope: Scope, key: string, c: Counter) => void put.run({ scope, key, ...c }),
    /** Clears a lock or delay (admin "key unlock" / "officer unlock"). True if there was one. */
    clear: (scope: Scope, key: string) => unlock.run(scope, key).changes === 1,
  };
}

/** Seconds to wait, or 0 when an attempt may go ahead. Infinity while locked. */
function waitMs(policy: ScopePolicy, c: Counter, now: number): number {
  if (c.locked) return Infinity;
  if (c.blocked_until > now) return c.blocked_until - now;
  if (policy.kind === "window" && now - c.window_start < policy.windowMs && c.failures >= policy.limit) return policy.blockMs;
  return 0;
}

function fresh(policy: ScopePolicy, c: Counter, now: number): Counter {
  return policy.kind === "window" && now - c.window_start >= policy.windowMs ? { failures: 0, window_start: now, blocked_until: 0, locked: 0 } : c;
}

/** After a failure: the block or delay the new count earns. */
function afterFailure(policy: ScopePolicy, c: Counter, now: number): Counter {
  if (policy.kind === "window") {
    return c.failures >= policy.limit ? { ...c, blocked_until: now + policy.blockMs } : c;
  }
  if (c.failures >= policy.lockAt) return { ...c, locked: 1 };
  if (c.failures >= policy.delayFrom) {
    const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (c.failures - policy.delayFrom));
    return { ...c, blocked_until: now + delay };
  }
  return c;
}

/**
 * Verification throttle over SQLite. reserve() counts the attempt as a failure in one immediate
 * transaction before any argon2 work, so parallel attempts cannot overrun a limit; settle(true)
 * gives the attempt back (and ends a contract number's run of consecutive failures).
 */
export function createSqliteThrottle(db: Db, clock: Clock, policy: ThrottlePolicy = VERIFICATION_POLICY): VerificationThrottle {
  const counters = createThrottleCounters(db);
  const scopes = (keys: ThrottleKeys): [Scope, string, ScopePolicy][] => [
    ["officer", String(keys.officerId), policy.officer],
    ["contract", keys.contractNumber, policy.contract],
    ["address", keys.clientAddress, policy.address],
  ];

  const reserve = db.transaction((keys: ThrottleKeys): number => {
    const now = clock.now().getTime();
    const states = scopes(keys).map(([scope, key, p]) => ({ scope, key, p, c: fresh(p, counters.get(scope, key, now), now) }));
    const wait = Math.max(...states.map((s) => waitMs(s.p, s.c, now)));
    if (wait > 0) return wait;
    for (const s of states) counters.put(s.scope, s.key, { ...s.c, failures: s.c.failures + 1 });
    return 0;
  });

  const settle = db.transaction((keys: ThrottleKeys, success: boolean) => {
    const now = clock.now().getTime();
    for (const [scope, key, p] of scopes(keys)) {
      const c = counters.get(scope, key, now);
      if (success) {
        const failures = p.kind === "consecutive" ? 0 : Math.max(0, c.failures - 1);
        counters.put(scope, key, { ...c, failures, blocked_until: p.kind === "consecutive" ? 0 : c.blocked_until });
      } else {
        counters.put(scope, key, afterFailure(p, c, now));
      }
    }
  });

  return {
    reserve(keys): Reservation {
      const wait = reserve.immediate(keys);
      if (wait > 0) return { allowed: false, retryAfterSeconds: Number.isFinite(wait) ? Math.ceil(wait / 1000) : 3600 };
      return { allowed: true, settle: (success) => settle.immediate(keys, success) };
    },
  };
}
