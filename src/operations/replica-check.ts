import type { KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Clock } from "../clock.js";
import { createRepositories } from "../composition.js";
import { openDatabase, type Db } from "../db/database.js";
import { checkDatabase, type DatabaseCheck } from "./check.js";
import { restoreFromReplica } from "./litestream.js";

type Head = { id: number; hash: string } | undefined;

export type ReplicaComparison =
  | { ok: false; problem: string; problems?: string[] }
  | {
    ok: true;
    /** The replica holds every audit row older than maxLagMs, and the live schema version. */
    current: boolean;
    live: { head: Head; userVersion: number };
    replica: { head: Head; userVersion: number };
    /** Audit rows the live database had when the comparison began and the replica lacks. */
    behindRows: number;
    /** How long the oldest of those has been committed without reaching the replica. */
    lagMs: number;
  };

/**
 * Whether a Litestream replica is current: its latest state is restored into a temporary file,
 * checked like any backup (integrity, foreign keys, audit chain), and its audit head compared
 * with the live database's. Every change an officer or admin makes is audited in the transaction
 * that makes it, so the replica's audit head is where its copy of the history ends: that row must
 * be the live row of the same id (else the replica belongs to another history), and the live rows
 * after it are what the replica lacks. Rows younger than `maxLagMs` are in transit (Litestream
 * ships once per sync interval), so a replica missing only those is current.
 */
export async function compareWithReplica(
  live: Db, replica: string, options: { clock: Clock; env: NodeJS.ProcessEnv; maxLagMs: number; publicKey?: KeyObject },
): Promise<ReplicaComparison> {
  const audit = createRepositories(live).audit;
  const startedAt = options.clock.now().getTime();
  const liveLast = audit.findLast();
  const liveVersion = live.pragma("user_version", { simple: true }) as number;

  // A temporary folder of our own: Litestream refuses an OUTPUT that exists, and leaves files beside it.
  const dir = mkdtempSync(path.join(tmpdir(), "kakunin-replica-"));
  try {
    const restored = await restoreFromReplica(replica, path.join(dir, "replica.sqlite"), { env: options.env });
    if (!restored.ok) return restored;
    const copy = openDatabase(restored.file, { mustExist: true });
    let check: DatabaseCheck;
    try {
      // Its signed checkpoints with the service's public key; not against the live checkpoint log,
      // which may already name checkpoints still in transit.
      check = checkDatabase(copy, { publicKey: options.publicKey, log: undefined });
    } finally {
      copy.close();
    }
    if (!check.ok) return { ok: false, problem: `the replica's latest state fails its check:`, problems: check.problems };

    const replicaHead = check.head && { id: check.head.id, hash: check.head.hash };
    if (replicaHead) {
      const same = audit.findById(replicaHead.id);
      if (!same || same.hash !== replicaHead.hash) {
        return {
          ok: false,
          problem: `the replica's last audit row ${replicaHead.id} (sha256 ${replicaHead.hash}) is not in the live database: ` +
            "the replica belongs to another database, or the live one was restored from an older state (start a new replica: docs/operations.md)",
        };
      }
    }
    const liveHead = liveLast && { id: liveLast.id, hash: liveLast.hash };
    const replicated = replicaHead?.id ?? 0;
    const behindRows = Math.max(0, (liveHead?.id ?? 0) - replicated);
    // Audit rows are never deleted and ids are not reused: the ids in between are the missing rows.
    const oldestMissing = behindRows > 0 ? audit.findFirstAfter(replicated) : undefined;
    const lagMs = oldestMissing ? Math.max(0, startedAt - Date.parse(oldestMissing.occurredAt)) : 0;
    return {
      ok: true,
      current: check.userVersion === liveVersion && (behindRows === 0 || lagMs <= options.maxLagMs),
      live: { head: liveHead, userVersion: liveVersion },
      replica: { head: replicaHead, userVersion: check.userVersion },
      behindRows,
      lagMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
