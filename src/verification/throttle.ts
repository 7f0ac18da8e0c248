import type { Escalation } from "../security/attempt-throttle.js";

/**
 * The place where wrong-key throttling plugs in: every verification reserves an attempt before
 * any argon2 work and settles it afterwards. Counters are keyed on what was submitted (officer,
 * normalised contract number, client address), so real and unknown numbers behave alike.
 */
export type ThrottleKeys = { officerId: number; contractNumber: string; clientAddress: string };

export type Reservation =
  | {
      allowed: true;
      /** Settles the attempt; call inside the transaction that records its outcome. */
      settle(success: boolean): Escalation[];
      /** Undoes the reservation: the attempt was never made. */
      release(): void;
    }
  | { allowed: false; retryAfterSeconds: number; locked: boolean };

export type VerificationThrottle = { reserve(keys: ThrottleKeys): Reservation };
