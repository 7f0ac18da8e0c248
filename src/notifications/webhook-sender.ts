import { Webhook } from "standardwebhooks";
import type { Clock } from "../clock.js";
import { postPinned } from "../http/outbound-post.js";
import type { Logger } from "../logger.js";
import type { WebhookService } from "./webhook.service.js";

/** How often an idle sender looks for due webhooks (one indexed query). */
const IDLE_POLL_MS = 2_000;
/** A receiver has this long to answer; then the attempt counts as failed and is retried. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export type WebhookSender = {
  start(): void;
  /** Sends every webhook due now, one at a time; resolves with how many were answered 2xx. */
  deliverDue(): Promise<number>;
  /** Stops polling and drops the webhook in hand if not answered yet (it is sent again at the next start). */
  stop(): Promise<void>;
};

/**
 * Delivers the webhook outbox, one row at a time: check the host's addresses again (DNS may have
 * changed since the endpoint was added), sign with the endpoint's secret (Standard Webhooks: the
 * row's fixed webhook-id, the attempt's timestamp), POST, and on a 2xx mark the row sent before the
 * next is taken. Anything else is retried with the outbox's back-off; 410 Gone disables the
 * endpoint. A crash between the answer and the mark repeats that one webhook under the same id.
 */
export function createWebhookSender(deps: { webhooks: WebhookService; clock: Clock; logger: Logger; idlePollMs?: number; timeoutMs?: number }): WebhookSender {
  const { webhooks, clock, logger, idlePollMs = IDLE_POLL_MS, timeoutMs = DELIVERY_TIMEOUT_MS } = deps;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<number> | undefined;
  let started = false;
  let stopped = false;
  // Aborts the POST in hand at stop: a shutdown does not wait out a slow receiver's 10 s.
  const stopping = new AbortController();

  async function deliver(): Promise<number> {
    let sent = 0;
    for (let next = webhooks.nextDue(); next && !stopped; next = webhooks.nextDue()) {
      const { row } = next;
      const log = { outboxId: row.id, webhookId: row.messageId, endpointId: row.recipient, attempt: row.attempts + 1 };
      if (!next.ok) {
        const outcome = webhooks.markAttemptFailed(row.id, next.reason, next.permanent);
        logger.warn({ ...log, outcome, reason: next.reason }, "webhook not delivered");
        continue;
      }
      const target = await webhooks.checkTarget(next.url);
      if (!target.ok) {
        const reason = target.problems[0]!.message;
        const outcome = webhooks.markAttemptFailed(row.id, reason, false);
        logger.warn({ ...log, outcome, reason }, "webhook not delivered");
        continue;
      }
      const sentAt = clock.now();
      const signature = new Webhook(next.secret).sign(row.messageId, sentAt, row.content.body);
      const result = await postPinned(next.url, target.value, {
        "content-type": "application/json",
        "user-agent": "Kakunin-Webhooks/1",
        "webhook-id": row.messageId,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signature,
      }, row.content.body, { timeoutMs, signal: stopping.signal });
      // Cut short by stop(): not an attempt of the receiver's making; the row stays due, same webhook-id.
      if (stopped && !result.answered) break;
      if (result.answered && result.status >= 200 && result.status < 300) {
        webhooks.markSent(row.id);
        sent++;
        logger.info({ ...log, status: result.status }, "webhook delivered");
      } else if (result.answered && result.status === 410) {
        webhooks.markGone(row);
        logger.warn({ ...log, status: 410, outcome: "failed" }, "webhook endpoint answered 410 Gone: disabled");
      } else {
        const reason = result.answered ? `HTTP ${result.status}` : result.error;
        const outcome = webhooks.markAttemptFailed(row.id, reason, false);
        logger.warn({ ...log, outcome, reason }, "webhook not delivered");
      }
    }
    return sent;
  }

  const deliverDue = () => (pass ??= deliver().finally(() => { pass = undefined; }));

  const tick = async () => {
    try {
      await deliverDue();
    } catch (error) {
      // A database error (busy, full) or an unreadable key: logged, and the next tick tries again.
      logger.error({ err: error }, "webhook outbox pass failed");
    }
    if (!stopped) timer = setTimeout(tick, idlePollMs).unref();
  };

  return {
    start() {
      if (started) return;
      started = true;
      timer = setTimeout(tick, 0).unref();
    },
    deliverDue,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      stopping.abort();
      await pass;
    },
  };
}
