import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from "node:fs";
import type { Checkpoint } from "./audit-checkpoint.repository.js";

/**
 * The checkpoint log: one JSON line per checkpoint, in a file outside the database (mode 0600,
 * the service's user's), so that checkpoints deleted from the database are still known.
 */
export function appendCheckpointLine(file: string, checkpoint: Checkpoint): void {
  // Created with 0600 (a umask can only narrow it); "a" keeps every earlier line.
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  appendFileSync(file, `${JSON.stringify(checkpoint)}\n`);
}

export type CheckpointLog =
  | { ok: true; entries: Checkpoint[] }
  | { ok: false; problem: string; unreadable?: boolean };

const isCheckpoint = (v: unknown): v is Checkpoint => {
  const c = v as Record<string, unknown>;
  return typeof c === "object" && c !== null && Number.isInteger(c.id) && Number.isInteger(c.rowId) && typeof c.rowHash === "string"
    && Number.isInteger(c.rows) && typeof c.signedAt === "string" && typeof c.signature === "string";
};

/** Every line of the log; a missing file is an empty log (no checkpoint written yet). */
export function readCheckpointLog(file: string): CheckpointLog {
  let text: string;
  try {
    text = existsSync(file) ? readFileSync(file, "utf8") : "";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const unreadable = code === "EACCES" || code === "EPERM";
    return { ok: false, unreadable, problem: `cannot read the checkpoint log ${file} (${unreadable ? "permission denied" : (error as Error).message})` };
  }
  const entries: Checkpoint[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (!isCheckpoint(parsed)) return { ok: false, problem: `the checkpoint log ${file}, line ${i + 1}, is not a checkpoint` };
    entries.push(parsed);
  }
  return { ok: true, entries };
}
