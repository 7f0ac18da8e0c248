import { spawn } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { projectRoot } from "../paths.js";

/**
 * The Litestream binary that npm installed from @flydotio/litestream's platform package (one per platform,
 * e.g. @flydotio/litestream-linux-x64), or undefined on a platform it does not ship for. The one
 * place that knows where it is: called directly, not through the package's node wrapper, which
 * would add a process and swallow signals.
 */
export function litestreamBinary(): string | undefined {
  const require = createRequire(path.join(projectRoot, "package.json"));
  try {
    const manifest = require.resolve(`@flydotio/litestream-${process.platform}-${process.arch}/package.json`);
    const binary = path.join(path.dirname(manifest), "litestream");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** A replica as Litestream names it: a URL (s3://…, file://…) as given, a folder as file://. */
export function replicaUrl(dirOrUrl: string): { ok: true; url: string } | { ok: false; problem: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dirOrUrl)) return { ok: true, url: dirOrUrl };
  const dir = path.resolve(dirOrUrl);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { ok: false, problem: `the replica ${dirOrUrl} is neither a URL nor an existing folder` };
  if (!existsSync(path.join(dir, "generations"))) return { ok: false, problem: `the folder ${dirOrUrl} is not a Litestream replica (it has no generations/ folder)` };
  return { ok: true, url: pathToFileURL(dir).href };
}

export type LitestreamRestore = { ok: true; file: string } | { ok: false; problem: string };

/**
 * `litestream restore -o OUTPUT [-timestamp T] REPLICA`: the replica's latest state (or its state
 * at T) written to OUTPUT, which must not exist yet. `env` reaches Litestream for S3 credentials
 * (LITESTREAM_ACCESS_KEY_ID, LITESTREAM_SECRET_ACCESS_KEY, or AWS_*).
 */
export async function restoreFromReplica(replica: string, output: string, options: { timestamp?: Date; env: NodeJS.ProcessEnv }): Promise<LitestreamRestore> {
  const binary = litestreamBinary();
  if (!binary) return { ok: false, problem: `Litestream is not installed for ${process.platform}-${process.arch} (npm package @flydotio/litestream-linux-x64, an optional dependency)` };
  const url = replicaUrl(replica);
  if (!url.ok) return url;
  const args = ["restore", "-o", output, ...(options.timestamp ? ["-timestamp", options.timestamp.toISOString()] : []), url.url];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(binary, args, { env: options.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
  // Litestream restores into OUTPUT.tmp, renames it, and leaves that file's empty -wal and -shm behind.
  for (const suffix of [".tmp-wal", ".tmp-shm"]) rmSync(output + suffix, { force: true });
  if (code !== 0 || !existsSync(output)) {
    const reason = stderr.trim().split("\n").filter(Boolean).pop() ?? `exit status ${code}`;
    return { ok: false, problem: `litestream restore from ${url.url} failed: ${reason}` };
  }
  return { ok: true, file: output };
}
