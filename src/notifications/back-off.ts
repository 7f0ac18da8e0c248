import type { OutboxRepository } from "./outbox.repository.js";

/** Retries: 1 minute, doubling; a row not delivered within 24 hours of its first try is given up. */
const FIRST_RETRY_MS = 60_000;
const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

/**
 * The outbox's one rule for a failed attempt, whatever the channel (mail, webhook): retried with
 * back-off, or given up (a permanent refusal, or 24 hours spent).
 */
export function recordFailedAttempt(outbox: OutboxRepository, id: number, at: Date, error: string, permanent: boolean): "retry" | "failed" {
  const row = outbox.findById(id)!;
  const next = new Date(at.getTime() + FIRST_RETRY_MS * 2 ** Math.min(row.attempts, 20));
  if (permanent || next.getTime() - new Date(row.createdAt).getTime() > GIVE_UP_AFTER_MS) {
    outbox.markFailed(id, at.toISOString(), error);
    return "failed";
  }
  outbox.markRetry(id, next.toISOString(), error);
  return "retry";
}
