import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
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

  it("when started as npm start starts it, then argon2 gets one pool thread per core and twice as many hashes in flight, unless UV_THREADPOOL_SIZE says otherwise", async () => {
    const listening = async (env: NodeJS.ProcessEnv) => {
      const child = spawnTs("src/start.cts", [], { NODE_ENV: "test", PORT: "0", DATABASE_PATH: path.join(dir, "pool.sqlite"), ...env });
      try {
        await child.waitFor(/listening on/, { timeoutMs: 20_000 });
        const line = child.stdout().split("\n").find((l) => l.includes('"msg":"listening"'));
        return (JSON.parse(line!) as { argon2: unknown }).argon2;
      } finally {
        child.kill("SIGTERM");
        await child.exited;
      }
    };
    expect(await listening({})).to.deep.equal({ poolThreads: availableParallelism(), inFlight: 2 * availableParallelism(), queue: 32 });
    expect(await listening({ UV_THREADPOOL_SIZE: "3" })).to.deep.equal({ poolThreads: 3, inFlight: 6, queue: 32 });
  });
});
