import type { Limits } from "../config.js";
import type { AttemptThrottle, Escalation, ThrottleKey } from "./attempt-throttle.js";

/** What a verification is counted on: always what was submitted, so real and unknown numbers behave alike. */
export type VerificationAttemptKeys = { actorKey: string; ordererCode: string; contractNumber: string };

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
 * Wrong-key throttling, only ever on the actor's own doing and their orderer's: per officer or API
 * client (a window over every number), per actor and submitted contract number (consecutive failures,
 * then delays), and per orderer and contract number (consecutive, delays, then a lock until
 * `admin key unlock`): the bound on guesses at one key, since only the guarantee's own orderer
 * can ever open it (docs/SECURITY.md, KEY-06). Another orderer's failures, and other people's
 * failures from the same client address, never delay an officer (issue 13). See
 * createAttemptThrottle for the reservation rules.
 */
export function createVerificationThrottle(attempts: AttemptThrottle, limits: Pick<Limits, "officer" | "officerContract" | "contract">) {
  const keysOf = (keys: VerificationAttemptKeys): ThrottleKey[] => [
    // Officers and API clients alike: an actor's key is an officer's id, or a client's in a namespace of its own.
    { scope: "officer", key: keys.actorKey, policy: limits.officer },
    { scope: "officer_contract", key: `${keys.contractNumber}/${keys.actorKey}`, policy: limits.officerContract },
    { scope: "contract", key: `${keys.contractNumber}/${keys.ordererCode}`, policy: limits.contract },
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
