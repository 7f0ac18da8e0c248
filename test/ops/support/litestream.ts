import { writeFileSync } from "node:fs";
import path from "node:path";
import { litestreamBinary } from "../../../src/operations/litestream.js";
import { spawnChild, type Child } from "./processes.js";

/** What docs/operations.md configures: Litestream looks at the WAL every 100 ms and ships what it
 * found once a second, so a commit reaches the replica within about 1.1 s. */
export const SYNC_INTERVAL_MS = 1000;
export const MONITOR_INTERVAL_MS = 100;

/** `litestream replicate -config FILE` over `databasePath` to the folder `replicaDir`, with the
 * intervals above; resolves once it has taken the database's first snapshot. */
export async function startLitestream(databasePath: string, replicaDir: string): Promise<Child> {
  const binary = litestreamBinary();
  if (!binary) throw new Error("the Litestream binary is missing (npm package @flydotio/litestream-linux-x64)");
  const config = path.join(path.dirname(replicaDir), "litestream.yml");
  writeFileSync(config, [
    "dbs:",
    `  - path: ${JSON.stringify(databasePath)}`,
    `    monitor-interval: ${MONITOR_INTERVAL_MS}ms`,
    "    replicas:",
    "      - type: file",
    `        path: ${JSON.stringify(replicaDir)}`,
    `        sync-interval: ${SYNC_INTERVAL_MS}ms`,
    "",
  ].join("\n"));
  const child = spawnChild(binary, ["replicate", "-config", config], {}, "litestream");
  try {
    await child.waitFor(/snapshot written/, { timeoutMs: 10_000 });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return child;
}

/** Litestream's own complaints (it logs to stdout) (level=ERROR or WARN lines), which must stay empty while the service runs beside it. */
export function litestreamErrors(child: Child): string[] {
  return (child.stdout() + child.stderr()).split("\n").filter((line) => /level=(ERROR|WARN)/.test(line));
}
