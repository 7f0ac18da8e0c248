import type { Db } from "./database.js";

/**
 * Group commit: writes queued in the same turn of the event loop commit together, in one
 * immediate transaction and so one fsync (synchronous=FULL), each in its own savepoint so that
 * one failing write does not undo the others. A request awaits its write before it answers, so
 * every acknowledged write is as durable as with its own commit.
 */
export function createGroupCommit(db: Db) {
  type Item = { write: () => void; resolve: () => void; reject: (error: unknown) => void; error?: unknown };
  let queue: Item[] = [];
  const flush = db.transaction((batch: Item[]) => {
    for (const item of batch) {
      try {
        db.transaction(item.write)();
      } catch (error) {
        item.error = error ?? new Error("write failed");
      }
    }
  });
  const run = () => {
    const batch = queue;
    queue = [];
    try {
      flush.immediate(batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) (item.error === undefined ? item.resolve() : item.reject(item.error));
  };
  return {
    write(write: () => void): Promise<void> {
      return new Promise((resolve, reject) => {
        if (queue.push({ write, resolve, reject }) === 1) setImmediate(run);
      });
    },
  };
}
