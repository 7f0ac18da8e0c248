import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { MailConfig } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import { parseMailAddress } from "../format/mail-address.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import { refusal, success, type Outcome } from "../result.js";
import { recordFailedAttempt } from "./back-off.js";
import type { MailboxRepository } from "./mailbox.repository.js";
import type { OutboxRepository } from "./outbox.repository.js";

/** What the notifications need to know of the mail set-up (config.ts reads it). */
export type NotificationSettings = {
  /** Where the links in mails point, without a trailing slash. */
  publicBaseUrl: string;
  /** False when no SMTP_URL is set: mails wait in the outbox, marked as not sent. */
  smtpConfigured: boolean;
};

export const notificationSettings = (mail: MailConfig): NotificationSettings => ({ publicBaseUrl: mail.publicBaseUrl, smtpConfigured: mail.smtpUrl !== null });

const NO_SMTP = "no SMTP configured";

/**
 * The orderers' mailboxes and the mail outbox: what is queued for whom, what the sender takes
 * next, and its bookkeeping of attempts.
 */
export function createMailService(deps: {
  mailboxes: MailboxRepository; outbox: OutboxRepository; orderers: OrdererRepository; tx: Transactions; clock: Clock; audit: AuditService; settings: NotificationSettings;
}) {
  const { mailboxes, outbox, orderers, tx, clock, audit, settings } = deps;
  const now = () => clock.now().toISOString();
  const messageIdDomain = new URL(settings.publicBaseUrl).hostname || "kakunin.invalid";

  const changeMailbox = tx.transaction((op: "add" | "remove", ordererId: number, ordererCode: string, address: string, actor: string) => {
    const done = op === "add" ? mailboxes.add(ordererId, address, now()) : mailboxes.remove(ordererId, address);
    if (done) audit.appendInTransaction({ event: `orderer_mail_${op}`, outcome: "ok", actorKind: "admin", actor, ordererCode, detail: { address } });
    return done;
  });

  const requeue = tx.transaction((actor: string) => {
    const count = outbox.requeueFailed("mail", now());
    audit.appendInTransaction({ event: "mail_retry", outcome: "ok", actorKind: "admin", actor, detail: { requeued: count } });
    return count;
  });

  function findOrderer(rawCode: string): Outcome<{ id: number; code: string }> {
    const code = parseOrdererCode(rawCode);
    if (!code.ok) return code;
    const orderer = orderers.findByCode(code.value);
    return orderer ? success(orderer) : refusal({ field: "code", message: `no orderer ${code.value} is registered` });
  }

  return {
    /** One outbox row per mailbox of the orderer; the number queued. Call inside the transaction that recorded the topic. */
    enqueue(ordererId: number, topic: string, compose: (ordererName: string) => { subject: string; text: string }): number {
      const addresses = mailboxes.list(ordererId);
      if (addresses.length === 0) return 0;
      const mail = compose(orderers.findById(ordererId)!.name);
      const at = now();
      let queued = 0;
      for (const to of addresses) {
        // Fixed here: a retry, or a resend after a crash, carries the same Message-ID.
        const messageId = `<${randomUUID()}@${messageIdDomain}>`;
        if (outbox.insert({
          channel: "mail", ordererId, topic, recipient: to, messageId, content: { to, ...mail }, createdAt: at, nextAttemptAt: at,
          lastError: settings.smtpConfigured ? null : NO_SMTP,
        })) queued++;
      }
      return queued;
    },

    addMailbox(rawCode: string, rawAddress: string, actor: string): Outcome<string> {
      const orderer = findOrderer(rawCode);
      if (!orderer.ok) return orderer;
      const address = parseMailAddress(rawAddress);
      if (!address.ok) return address;
      if (!changeMailbox.immediate("add", orderer.value.id, orderer.value.code, address.value, actor)) {
        return refusal({ field: "address", message: `${address.value} is already a mailbox of ${orderer.value.code}` });
      }
      return success(address.value);
    },
    removeMailbox(rawCode: string, rawAddress: string, actor: string): Outcome<string> {
      const orderer = findOrderer(rawCode);
      if (!orderer.ok) return orderer;
      const address = parseMailAddress(rawAddress);
      if (!address.ok) return address;
      if (!changeMailbox.immediate("remove", orderer.value.id, orderer.value.code, address.value, actor)) {
        return refusal({ field: "address", message: `${address.value} is not a mailbox of ${orderer.value.code}` });
      }
      return success(address.value);
    },
    listMailboxes(rawCode: string): Outcome<string[]> {
      const orderer = findOrderer(rawCode);
      return orderer.ok ? success(mailboxes.list(orderer.value.id)) : orderer;
    },

    /** What the outbox holds: counts, and the unsent rows (failed first). */
    status: (limit: number) => ({ counts: outbox.counts("mail"), unsent: outbox.listUnsent("mail", limit) }),
    /** Failed mails become due now, with a fresh 24-hour window. */
    retryFailed: (actor: string) => requeue.immediate(actor),

    /** The sender's side: the next mail due now, if any. */
    nextDue: () => outbox.nextDue("mail", now()),
    /** Right after the SMTP server accepted it, before the next is taken. */
    markSent: (id: number) => outbox.markSent(id, now()),
    /** A refused or failed attempt: retried with back-off, or given up (permanent refusal, or 24 hours spent). */
    markAttemptFailed: (id: number, error: string, permanent: boolean) => recordFailedAttempt(outbox, id, clock.now(), error, permanent),
  };
}

export type MailService = ReturnType<typeof createMailService>;
