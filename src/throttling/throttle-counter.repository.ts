import type { Db } from "../db/database.js";

/** What a counter is keyed on: always what was submitted, so real and unknown identifiers behave alike. */
export type ThrottleScope = "login" | "officer" | "contract" | "address";

/** One counter of failed attempts: its window, its delay or block, its lock. Times in epoch ms. */
export type Counter = { failures: number; window_start: number; blocked_until: number; locked: number };

export function createThrottleCounterRepository(db: Db) {
  const get = db.prepare<[string, string], Counter>(
    "SELECT failures, window_start, blocked_until, locked FROM throttle_counters WHERE scope = ? AND key = ?",
  );
  const put = db.prepare(`
    INSERT INTO throttle_counters (scope, key, failures, window_start, blocked_until, locked)
    VALUES (@scope, @key, @failures, @window_start, @blocked_until, @locked)
    ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
      blocked_until = excluded.blocked_until, locked = excluded.locked`);
  const remove = db.prepare("DELETE FROM throttle_counters WHERE scope = ? AND key = ?");
  const locked = db.prepare<[string], { key: string; failures: number }>(
    "SELECT key, failures FROM throttle_counters WHERE scope = ? AND locked = 1 ORDER BY key",
  );
  return {
    get: (scope: ThrottleScope, key: string) => get.get(scope, key),
    put: (scope: ThrottleScope, key: string, c: Counter) => void put.run({ scope, key, ...c }),
    /** Forgets a key's failures, delay and lock (admin unlock). True if there was anything to forget. */
    clear: (scope: ThrottleScope, key: string) => remove.run(scope, key).changes === 1,
    listLocked: (scope: ThrottleScope) => locked.all(scope),
  };
}

export type ThrottleCounterRepository = ReturnType<typeof createThrottleCounterRepository>;
