/**
 * The place where wrong-key throttling plugs in: every verification reserves an attempt before
 * any argon2 work and settles it afterwards. Counters are keyed on what was submitted (officer,
 * normalised contract number, client address), so real and unknown numbers behave alike.
 */
export type ThrottleKeys = { officerId: number; contractNumber: string; clientAddress: string };

export type Reservation = { allowed: true; settle(success: boolean): void } | { allowed: false; retryAfterSeconds: number };

export type VerificationThrottle = { reserve(keys: ThrottleKeys): Reservation };
