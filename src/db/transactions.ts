import type Database from "better-sqlite3";
import { commitUnsynced, type Db } from "./database.js";
import { createGroupCommit } from "./group-commit.js";

/**
 * What a service may do with the connection: wrap its repositories' statements in transactions.
 * Services never see the connection itself, so all SQL stays in repositories.
 */
export type Transactions = {
  /** better-sqlite3's transaction wrapper: call it, or `.immediate(...)` to take the write lock first. */
  transaction<F extends (...args: any[]) => any>(fn: F): Database.Transaction<F>;
  readonly inTransaction: boolean;
  /** Commits without waiting for the disk (see commitUnsynced): for writes nobody has been answered about yet. */
  unsynced<A extends unknown[], R>(transaction: Database.Transaction<(...args: A) => R>, ...args: A): R;
  /** Writes queued in one turn of the event loop commit together (see createGroupCommit). */
  groupCommit(): { write(write: () => void): Promise<void> };
};

export function createTransactions(db: Db): Transactions {
  return {
    transaction: (fn) => db.transaction(fn),
    get inTransaction() {
      return db.inTransaction;
    },
    unsynced: (transaction, ...args) => commitUnsynced(db, transaction, ...args),
    groupCommit: () => createGroupCommit(db),
  };
}
