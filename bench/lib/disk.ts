import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

/**
 * The time of one SQLite commit with the service's pragmas (WAL, synchronous=FULL) on the disk
 * that holds the benchmark's databases: an fsync, paid on the event loop by every write. Median
 * of `count` one-row updates, each its own transaction.
 */
export function measureCommitMs(count = 60): number {
  const dir = mkdtempSync(path.join(tmpdir(), "kakunin-bench-disk-"));
  const db = new Database(path.join(dir, "commit.sqlite"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO t VALUES (1, 0)");
    const update = db.prepare("UPDATE t SET v = ? WHERE id = 1");
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const began = performance.now();
      update.run(i);
      times.push(performance.now() - began);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
