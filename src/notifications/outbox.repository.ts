import type { Db } from "../db/database.js";

/** A mail as written to the outbox: plain text, fixed when the row is written. */
export type MailContent = { to: string; subject: string; text: string };

/** A webhook as written to the outbox: the exact JSON body that is signed and POSTed, and its type. */
export type WebhookContent = { type: string; body: string };

type ContentOf = { mail: MailContent; webhook: WebhookContent };
export type Channel = keyof ContentOf;

export type OutboxRow<C extends Channel = Channel> = {
  id: number;
  channel: C;
  ordererId: number;
  topic: string;
  recipient: string;
  messageId: string;
  content: ContentOf[C];
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  sentAt: string | null;
  failedAt: string | null;
};

export type NewOutboxRow<C extends Channel = Channel> = Pick<OutboxRow<C>, "channel" | "ordererId" | "topic" | "recipient" | "messageId" | "content" | "createdAt" | "nextAttemptAt" | "lastError">;

type Row = {
  id: number; channel: Channel; orderer_id: number; topic: string; recipient: string; message_id: string; content: string;
  created_at: string; attempts: number; next_attempt_at: string; last_error: string | null; sent_at: string | null; failed_at: string | null;
};

const toOutboxRow = <C extends Channel>(r: Row): OutboxRow<C> => ({
  id: r.id, channel: r.channel as C, ordererId: r.orderer_id, topic: r.topic, recipient: r.recipient, messageId: r.message_id,
  content: JSON.parse(r.content) as ContentOf[C], createdAt: r.created_at, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error, sentAt: r.sent_at, failedAt: r.failed_at,
});

export type OutboxCounts = { pending: number; failed: number; sent: number };

export function createOutboxRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO outbox (channel, orderer_id, topic, recipient, message_id, content, created_at, next_attempt_at, last_error)
    VALUES (@channel, @ordererId, @topic, @recipient, @messageId, @content, @createdAt, @nextAttemptAt, @lastError)
    ON CONFLICT (channel, topic, recipient) DO NOTHING`);
  const nextDue = db.prepare<{ channel: Channel; now: string }, Row>(`
    SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND channel = @channel AND next_attempt_at <= @now
    ORDER BY next_attempt_at, id LIMIT 1`);
  const byId = db.prepare<[number], Row>("SELECT * FROM outbox WHERE id = ?");
  const markSent = db.prepare("UPDATE outbox SET sent_at = @at, attempts = attempts + 1, last_error = NULL WHERE id = @id AND sent_at IS NULL");
  const markRetry = db.prepare(`
    UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @next, last_error = @error WHERE id = @id AND sent_at IS NULL`);
  const markFailed = db.prepare(`
    UPDATE outbox SET attempts = attempts + 1, failed_at = @at, last_error = @error WHERE id = @id AND sent_at IS NULL`);
  const requeue = db.prepare<{ channel: Channel; now: string }>(`
    UPDATE outbox SET failed_at = NULL, attempts = 0, next_attempt_at = @now, created_at = @now
    WHERE channel = @channel AND failed_at IS NOT NULL`);
  const unsent = db.prepare<{ channel: Channel; limit: number }, Row>(`
    SELECT * FROM outbox WHERE channel = @channel AND sent_at IS NULL ORDER BY failed_at IS NULL, next_attempt_at, id LIMIT @limit`);
  const counts = db.prepare<{ channel: Channel }, OutboxCounts>(`
    SELECT count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL) AS pending,
           count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
           count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent
    FROM outbox WHERE channel = @channel`);
  const forTopic = db.prepare<[string], Row>("SELECT * FROM outbox WHERE topic = ? ORDER BY id");
  const byMessageId = db.prepare<[string], Row>("SELECT * FROM outbox WHERE message_id = ?");
  const failPendingFor = db.prepare(`
    UPDATE outbox SET failed_at = @at, last_error = @error
    WHERE channel = @channel AND recipient = @recipient AND sent_at IS NULL AND failed_at IS NULL`);

  return {
    /** False when the (channel, topic, recipient) row already exists. Call inside the transaction that made the topic. */
    insert: <C extends Channel>(row: NewOutboxRow<C>): boolean => insert.run({ ...row, content: JSON.stringify(row.content) }).changes === 1,
    /** The pending row due first, if one is due at `now`. */
    nextDue: <C extends Channel>(channel: C, now: string) => { const r = nextDue.get({ channel, now }); return r && toOutboxRow<C>(r); },
    findById: (id: number) => { const r = byId.get(id); return r && toOutboxRow(r); },
    markSent: (id: number, at: string) => void markSent.run({ id, at }),
    markRetry: (id: number, next: string, error: string) => void markRetry.run({ id, next, error }),
    markFailed: (id: number, at: string, error: string) => void markFailed.run({ id, at, error }),
    /** Failed rows become pending again, due now, with a fresh back-off window. The number re-queued. */
    requeueFailed: (channel: Channel, now: string) => requeue.run({ channel, now }).changes,
    /** Rows not sent, failed ones first, then by when they are due. */
    listUnsent: <C extends Channel>(channel: C, limit: number) => unsent.all({ channel, limit }).map((r) => toOutboxRow<C>(r)),
    counts: (channel: Channel) => counts.get({ channel })!,
    forTopic: (topic: string) => forTopic.all(topic).map((r) => toOutboxRow(r)),
    findByMessageId: (messageId: string) => { const r = byMessageId.get(messageId); return r && toOutboxRow(r); },
    /** Gives up the recipient's pending rows (a removed webhook endpoint); the number given up. */
    failPendingFor: (channel: Channel, recipient: string, at: string, error: string) => failPendingFor.run({ channel, recipient, at, error }).changes,
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
