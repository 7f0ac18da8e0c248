import type { Logger } from "../logger.js";
import { answeredByServer, describeSendError, isPermanentRefusal, type MailTransport } from "./mailer.js";
import type { MailService } from "./mail.service.js";

/** How often an idle sender looks for due mail (one indexed query). */
const IDLE_POLL_MS = 2_000;

export type OutboxSender = {
  start(): void;
  /** Sends every mail due now, one at a time; resolves with how many the server accepted. */
  deliverDue(): Promise<number>;
  /** Stops polling and waits for the mail in hand to be accepted and marked. */
  stop(): Promise<void>;
};

/**
 * Delivers the mail outbox, one row at a time: send, and the moment the SMTP server accepts it,
 * mark the row sent, before the next is taken. A crash between the two can only repeat that one
 * mail, under the same Message-ID (docs/operations.md). Timers are unref'd: they never keep the
 * process alive.
 */
export function createOutboxSender(deps: { mail: MailService; transport: MailTransport; from: string; logger: Logger; idlePollMs?: number }): OutboxSender {
  const { mail, transport, from, logger, idlePollMs = IDLE_POLL_MS } = deps;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<number> | undefined;
  let started = false;
  let stopped = false;

  async function deliver(): Promise<number> {
    let sent = 0;
    for (let row = mail.nextDue(); row && !stopped; row = mail.nextDue()) {
      try {
        await transport.send({ from, to: row.content.to, subject: row.content.subject, text: row.content.text, messageId: row.messageId });
      } catch (error) {
        const reason = describeSendError(error);
        const outcome = mail.markAttemptFailed(row.id, reason, isPermanentRefusal(error));
        logger.warn({ outboxId: row.id, attempt: row.attempts + 1, outcome, reason }, "mail not delivered");
        // No answer at all (refused, timed out, TLS failed): the relay is unreachable, and the other
        // mails would only wait out the same timeout. They are tried at the next pass.
        if (!answeredByServer(error)) break;
        continue;
      }
      mail.markSent(row.id);
      sent++;
      logger.info({ outboxId: row.id, messageId: row.messageId }, "mail sent");
    }
    return sent;
  }

  const deliverDue = () => (pass ??= deliver().finally(() => { pass = undefined; }));

  const tick = async () => {
    try {
      await deliverDue();
    } catch (error) {
      // A database error (busy, full): logged, and the next tick tries again.
      logger.error({ err: error }, "mail outbox pass failed");
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
      await pass;
      transport.close();
    },
  };
}
