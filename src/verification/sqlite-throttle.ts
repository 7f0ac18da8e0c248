import type { Clock } from "../clock.js";
import { PRODUCTION_LIMITS, type Limits } from "../config.js";
import type { Db } from "../db/database.js";
import { createAttemptThrottle, type ThrottleKey } from "../security/attempt-throttle.js";
import type { Reservation, ThrottleKeys, VerificationThrottle } from "./throttle.js";

/**
 * Verification throttle over SQLite: per officer (a window), per submitted contract number
 * (consecutive failures, then delays, then a lock until `admin key unlock`) and per client
 * address (a window shared with logins). See createAttemptThrottle for the reservation rules.
 */
export function createSqliteThrottle(db: Db, clock: Clock, limits: Limits = PRODUCTION_LIMITS): VerificationThrottle {
  const throttle = createAttemptThrottle(db, clock);
  const keysOf = (keys: ThrottleKeys): ThrottleKey[] => [
    { scope: "officer", key: String(keys.officerId), policy: limits.officer },
    { scope: "contract", key: keys.contractNumber, policy: limits.contract },
    { scope: "address", key: keys.clientAddress, policy: limits.address },
  ];
  return {
    reserve(keys): Reservation {
      const attempt = throttle.reserve(keysOf(keys));
      if (!attempt.allowed) return attempt;
      return {
        allowed: true,
        settle: (success) => {
          if (!success) return attempt.failed();
          attempt.succeeded();
          return [];
        },
        release: attempt.release,
      };
    },
  };
}
