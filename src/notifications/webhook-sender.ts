import { Webhook } from "standardwebhooks";
import type { Clock } from "../clock.js";
import { postPinned } from "../http/outbound-post.js";
import type { Logger } from "../logger.js";
import { createOutboxPoller, type OutboxPoller } from "./outbox-poller.js";
import type { WebhookService } from "./webhook.service.js";

/** A receiver has this long to answer; then the attempt counts as failed and is retried. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** The webhook outbox's poller: deliverDue() resolves with how many were answered 2xx; stop() drops the webhook in hand if not answered yet (it is sent again at the next start). */
export type WebhookSender = OutboxPoller;

/**
 * Delivers the webhook outbox, one row at a time: check the host's addresses again (DNS may have
 * changed since the endpoint was added), sign with the endpoint's secret (Standard Webhooks: the
 * row's fixed webhook-id, the attempt's timestamp), POST, and on a 2xx mark the row sent before the
 * next is taken. Anything else is retried with the outbox's back-off; 410 Gone disables the
 * endpoint. A crash between the answer and the mark repeats that one webhook under the same id.
 */
export function createWebhookSender(deps: { webhooks: WebhookService; clock: Clock; logger: Logger; idlePollMs?: number; timeoutMs?: number }): WebhookSender {
  const { webhooks, clock, logger, idlePollMs, timeoutMs = DELIVERY_TIMEOUT_MS } = deps;
  // Aborts the POST in hand at stop: a shutdown does not wait out a slow receiver's 10 s.
  const stopping = new AbortController();

  async function deliver(isStopped: () => boolean): Promise<number> {
    let sent = 0;
    for (let next = webhooks.nextDue(); next && !isStopped(); next = webhooks.nextDue()) {
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
      if (isStopped() && !result.answered) break;
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

  return createOutboxPoller({
    deliver, logger, failure: "webhook outbox pass failed", ...(idlePollMs === undefined ? {} : { idlePollMs }),
    onStop: () => stopping.abort(),
  });
}
