import type { Db } from "../db/database.js";

export function createMailboxRepository(db: Db) {
  const insert = db.prepare("INSERT INTO orderer_mailboxes (orderer_id, address, created_at) VALUES (@ordererId, @address, @at) ON CONFLICT DO NOTHING");
  const remove = db.prepare("DELETE FROM orderer_mailboxes WHERE orderer_id = @ordererId AND address = @address");
  const list = db.prepare<[number], { address: string }>("SELECT address FROM orderer_mailboxes WHERE orderer_id = ? ORDER BY address");
  return {
    /** False when the orderer already has this mailbox. */
    add: (ordererId: number, address: string, at: string) => insert.run({ ordererId, address, at }).changes === 1,
    /** False when the orderer has no such mailbox. */
    remove: (ordererId: number, address: string) => remove.run({ ordererId, address }).changes === 1,
    list: (ordererId: number) => list.all(ordererId).map((r) => r.address),
  };
}

export type MailboxRepository = ReturnType<typeof createMailboxRepository>;
