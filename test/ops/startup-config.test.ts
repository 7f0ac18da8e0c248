import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";
import { spawnTs } from "./support/processes.js";

/**
 * Start-up with a bad configuration: one clear line on stderr, exit 1, no stack trace, nothing
 * listening. The servers start in parallel (each is a process of its own) to keep this quick.
 * Tests run as root, for whom no folder is read-only, so the unwritable path is one whose parent
 * is a regular file.
 */
describe("start-up configuration", function () {
  this.timeout(30_000);
  let dir: string;
  let busy: Server;
  let busyPort: number;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-startup-"));
    writeFileSync(path.join(dir, "a-file"), "not a folder");
    writeFileSync(path.join(dir, "not-a-database.sqlite"), "plain text, long enough to have a header ".repeat(20));
    writeFileSync(path.join(dir, "loose-key.pem"), "whatever it holds, others may read it", { mode: 0o644 });
    chmodSync(path.join(dir, "loose-key.pem"), 0o644);
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => busy.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("when the secret is missing in production, the port is bad, the database path unusable or the port taken, then each stops with one line and exit 1", async () => {
    const database = path.join(dir, "kakunin.sqlite");
    const cases: { name: string; env: NodeJS.ProcessEnv; line: RegExp }[] = [
      {
        name: "no SESSION_SECRET in production",
        env: { NODE_ENV: "production", PORT: "0", DATABASE_PATH: database },
        line: /^kakunin: invalid configuration: SESSION_SECRET is required when NODE_ENV=production \(at least 32 random bytes\)$/,
      },
      {
        name: "a port out of range and a short secret: both reported at once",
        env: { NODE_ENV: "production", SESSION_SECRET: "short", PORT: "70000", DATABASE_PATH: database },
        line: /^kakunin: invalid configuration: PORT must be a number from 0 to 65535 \(got "70000"\); SESSION_SECRET must be at least 32 bytes long$/,
      },
      {
        name: "a thread pool size that is not a number",
        env: { NODE_ENV: "test", PORT: "0", DATABASE_PATH: database, UV_THREADPOOL_SIZE: "lots" },
        line: /^kakunin: invalid configuration: UV_THREADPOOL_SIZE must be an integer from 1 to 1024 \(got "lots"\)$/,
      },
      {
        name: "a database path under a regular file",
        env: { NODE_ENV: "test", PORT: "0", DATABASE_PATH: path.join(dir, "a-file", "kakunin.sqlite") },
        line: /^kakunin: cannot use the database at .*a-file\/kakunin\.sqlite: a part of the path is a file, not a folder$/,
      },
      {
        name: "a database path naming a file that is not a database",
        env: { NODE_ENV: "test", PORT: "0", DATABASE_PATH: path.join(dir, "not-a-database.sqlite") },
        line: /^kakunin: cannot use the database at .*not-a-database\.sqlite: the file is not a SQLite database$/,
      },
      {
        name: "an audit signing key that others may read",
        env: { NODE_ENV: "test", PORT: "0", DATABASE_PATH: path.join(dir, "keyed.sqlite"), AUDIT_SIGNING_KEY_FILE: path.join(dir, "loose-key.pem") },
        line: /^kakunin: the audit signing key .*loose-key\.pem has mode 0644: it must be readable by the service's user only \(chmod 600\)$/,
      },
      {
        name: "a port already taken",
        env: { NODE_ENV: "test", PORT: String(busyPort), DATABASE_PATH: path.join(dir, "busy.sqlite") },
        line: new RegExp(`^kakunin: cannot listen on 127\\.0\\.0\\.1:${busyPort}: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${busyPort}$`),
      },
    ];
    const runs = await Promise.all(cases.map(async (c) => {
      const child = spawnTs("src/start.cts", [], c.env);
      return { ...c, code: await child.exited, stderr: child.stderr(), stdout: child.stdout() };
    }));
    for (const run of runs) {
      expect(run.code, run.name).to.equal(1);
      expect(run.stderr, run.name).to.match(/\n$/);
      const lines = run.stderr.trimEnd().split("\n");
      expect(lines, run.name).to.have.length(1);
      expect(lines[0], run.name).to.match(run.line);
      expect(run.stdout, run.name).not.to.contain("listening on");
      expect(run.stdout + run.stderr, run.name).not.to.match(/\n\s+at /);
    }
  });

  it("when started as npm start starts it, then libuv's pool really has one thread per core (at most 8), with twice as many hashes in flight, unless UV_THREADPOOL_SIZE says otherwise", async function () {
    if (process.platform !== "linux") this.skip();
    // The compiled entry, as npm start runs it: under tsx (an ES module loader) the pool would
    // already be running before src/start.cts could size it. Inside the project, so that its
    // package.json makes the output ES modules and locates views/ and db/: under .scratch/ (git-ignored),
    // not node_modules/.cache, which several checkouts may share (and then another's package.json is nearest).
    const outDir = path.join(projectRoot, ".scratch", "test-dist");
    rmSync(outDir, { recursive: true, force: true });
    execFileSync(process.execPath, [path.join(projectRoot, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: projectRoot });
    const started = async (env: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, [path.join(outDir, "src", "start.cjs")], {
        cwd: projectRoot, env: { PATH: process.env.PATH, NODE_ENV: "test", PORT: "0", DATABASE_PATH: path.join(dir, "pool.sqlite"), ...env }, stdio: ["ignore", "pipe", "inherit"],
      });
      try {
        let out = "";
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on("data", (chunk: Buffer) => { out += chunk.toString(); if (out.includes("listening on") && out.includes('"msg":"listening"')) resolve(); });
          child.once("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
        });
        // Listening comes after the start-up hash, so the pool has started by now. The log line and
        // the banner are two writes to the pipe: wait for both, in whichever order they arrive.
        const threads = readdirSync(`/proc/${child.pid}/task`).length;
        const line = out.split("\n").find((l) => l.includes('"msg":"listening"'));
        return { threads, argon2: (JSON.parse(line!) as { argon2: unknown }).argon2 };
      } finally {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    };
    const expected = Math.min(availableParallelism(), 8);
    const byDefault = await started({});
    const one = await started({ UV_THREADPOOL_SIZE: "1" });
    const three = await started({ UV_THREADPOOL_SIZE: "3" });
    expect(byDefault.argon2).to.deep.equal({ poolThreads: expected, inFlight: 2 * expected, queue: 32 });
    expect(three.argon2).to.deep.equal({ poolThreads: 3, inFlight: 6, queue: 32 });
    expect(byDefault.threads - one.threads, "pool threads beyond one, by default").to.equal(expected - 1);
    expect(three.threads - one.threads, "pool threads beyond one, with 3 asked for").to.equal(2);
  });
});
