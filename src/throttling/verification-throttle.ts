import type { Limits } from "../config.js";
import type { AttemptThrottle, Escalation, ThrottleKey } from "./attempt-throttle.js";

/** What a verification is counted on: always what was submitted, so real and unknown numbers behave alike. */
export type VerificationAttemptKeys = { actorKey: string; contractNumber: string; clientAddress: string };

export type VerificationReservation =
  | {
      allowed: true;
      /** Settles the attempt; call inside the transaction that records its outcome. */
      settle(success: boolean): Escalation[];
      /** Undoes the reservation: the attempt was never made. */
      release(): void;
    }
  | { allowed: false; retryAfterSeconds: number; locked: boolean };

/**
 * Wrong-key throttling: per officer or API client (a window), per submitted contract number (consecutive
 * failures, then delays, then a lock until `admin key unlock`) and per client address (a window
 * shared with logins). See createAttemptThrottle for the reservation rules.
 */
export function createVerificationThrottle(attempts: AttemptThrottle, limits: Pick<Limits, "officer" | "contract" | "address">) {
  const keysOf = (keys: VerificationAttemptKeys): ThrottleKey[] => [
    // Officers and API clients alike: a window per actor (a client's key is namespaced by the caller).
    { scope: "officer", key: keys.actorKey, policy: limits.officer },
    { scope: "contract", key: keys.contractNumber, policy: limits.contract },
    { scope: "address", key: keys.clientAddress, policy: limits.address },
  ];
  return {
    reserve(keys: VerificationAttemptKeys): VerificationReservation {
      const attempt = attempts.reserve(keysOf(keys));
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

export type VerificationThrottle = ReturnType<typeof createVerificationThrottle>;
