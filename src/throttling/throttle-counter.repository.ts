import type { Db } from "../db/database.js";

/** What a counter is keyed on: always what was submitted, so real and unknown identifiers behave alike. */
export type ThrottleScope = "login" | "officer" | "officer_contract" | "contract" | "address" | "device" | "sso_address";

/** One counter of failed attempts: its window, its delay or block, its lock. Times in epoch ms. */
export type Counter = { failures: number; window_start: number; blocked_until: number; locked: number };

export function createThrottleCounterRepository(db: Db) {
  const get = db.prepare<[string, string], Counter>(
    "SELECT failures, window_start, blocked_until, locked FROM throttle_counters WHERE scope = ? AND key = ?",
  );
  const put = db.prepare(`
    INSERT INTO throttle_counters (scope, key, failures, window_start, blocked_until, locked, touched_at)
    VALUES (@scope, @key, @failures, @window_start, @blocked_until, @locked, @touched_at)
    ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
      blocked_until = excluded.blocked_until, locked = excluded.locked, touched_at = excluded.touched_at`);
  const remove = db.prepare("DELETE FROM throttle_counters WHERE scope = ? AND key = ?");
  // A contract number's counters are keyed "NUMBER/ORDERER" and "NUMBER/OFFICER-ID".
  const removeContract = db.prepare("DELETE FROM throttle_counters WHERE scope IN ('contract', 'officer_contract') AND substr(key, 1, length(@number) + 1) = @number || '/'");
  const contractState = db.prepare<{ number: string }, { failures: number; locked: number }>(`
    SELECT coalesce(sum(failures), 0) AS failures, coalesce(max(locked), 0) AS locked FROM throttle_counters
     WHERE scope IN ('contract', 'officer_contract') AND substr(key, 1, length(@number) + 1) = @number || '/'`);
  const locked = db.prepare<[string], { key: string; failures: number }>(
    "SELECT key, failures FROM throttle_counters WHERE scope = ? AND locked = 1 ORDER BY key",
  );
  // Counters nobody has touched for the retention and that hold no live block: forgotten. Locks
  // stay until an admin lifts them, except those of login ids that name no officer (kept hashed).
  const purge = db.prepare(`
    DELETE FROM throttle_counters
     WHERE touched_at < @before AND blocked_until < @now AND (locked = 0 OR (scope = 'login' AND key LIKE 'h:%'))`);
  return {
    get: (scope: ThrottleScope, key: string) => get.get(scope, key),
    put: (scope: ThrottleScope, key: string, c: Counter, nowMs: number) => void put.run({ scope, key, ...c, touched_at: nowMs }),
    /** Forgets a key's failures, delay and lock (admin unlock). True if there was anything to forget. */
    clear: (scope: ThrottleScope, key: string) => remove.run(scope, key).changes === 1,
    /** A contract number's failures (all orderers and officers together) and whether any of them is locked. */
    contractState: (number: string) => contractState.get({ number })!,
    /** Forgets every counter of a contract number, for every orderer and officer (admin `key unlock`). */
    clearContract: (number: string) => removeContract.run({ number }).changes,
    listLocked: (scope: ThrottleScope) => locked.all(scope),
    /** Deletes counters untouched since `beforeMs` (see above); returns how many went. */
    purgeUntouched: (beforeMs: number, nowMs: number) => purge.run({ before: beforeMs, now: nowMs }).changes,
  };
}

export type ThrottleCounterRepository = ReturnType<typeof createThrottleCounterRepository>;
