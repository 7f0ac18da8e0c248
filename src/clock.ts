/** The time source, injected so that tests can move time (throttles, session expiry, 期限切れ). */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };
