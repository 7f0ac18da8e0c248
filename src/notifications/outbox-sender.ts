import type { Logger } from "../logger.js";
import { answeredByServer, describeSendError, isPermanentRefusal, type MailTransport } from "./mailer.js";
import type { MailService } from "./mail.service.js";
import { createOutboxPoller, type OutboxPoller } from "./outbox-poller.js";

/** The mail outbox's poller: deliverDue() resolves with how many mails the server accepted; stop() waits for the mail in hand to be accepted and marked. */
export type OutboxSender = OutboxPoller;

/**
 * Delivers the mail outbox, one row at a time: send, and the moment the SMTP server accepts it,
 * mark the row sent, before the next is taken. A crash between the two can only repeat that one
 * mail, under the same Message-ID (docs/operations.md). Timers are unref'd: they never keep the
 * process alive.
 */
export function createOutboxSender(deps: { mail: MailService; transport: MailTransport; from: string; logger: Logger; idlePollMs?: number }): OutboxSender {
  const { mail, transport, from, logger, idlePollMs } = deps;

  async function deliver(isStopped: () => boolean): Promise<number> {
    let sent = 0;
    for (let row = mail.nextDue(); row && !isStopped(); row = mail.nextDue()) {
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

  return createOutboxPoller({
    deliver, logger, failure: "mail outbox pass failed", ...(idlePollMs === undefined ? {} : { idlePollMs }),
    // The mail in hand is let finish (a mail the relay accepted is marked before the end), then the connection closes.
    afterStop: () => transport.close(),
  });
}
