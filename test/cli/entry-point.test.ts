import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

/** The node options of `npm run admin`, from package.json: what the tests below run. */
const adminScript = (JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: { admin: string } }).scripts.admin.split(" ");
const adminNodeArgs = adminScript.slice(1, adminScript.indexOf("scripts/admin.ts"));

/** The real entry point, as `npm run admin -- ...` runs it. */
function runAdmin(args: string[]) {
  const env = { ...process.env };
  delete env.KAKUNIN_DEBUG;
  return spawnSync(process.execPath, [...adminNodeArgs, "scripts/admin.ts", ...args], { cwd: projectRoot, env, encoding: "utf8", timeout: 60_000 });
}

describe("admin CLI: the entry point as a child process", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), "kakunin-cli-")); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("when an orderer code fails its check digit, then the process exits 1 with one line and no stack trace", () => {
    const result = runAdmin(["--db", path.join(dir, "k.sqlite"), "orderer", "add", "--code", "022081", "--name", "X"]);
    expect(result.status).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.equal("error: code: 022081 fails the check digit of the local government code\n");
  });

  it("when started as npm run admin starts it, then libuv's pool is sized to the cores (at most 8) before tsx starts it, unless UV_THREADPOOL_SIZE says otherwise", () => {
    const poolSize = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [...adminNodeArgs, "--eval", "console.log(process.env.UV_THREADPOOL_SIZE)"], {
      cwd: projectRoot, env: { PATH: process.env.PATH, ...env }, encoding: "utf8",
    }).stdout.trim();
    expect(adminNodeArgs.slice(0, 2), "the preload comes before tsx").to.deep.equal(["--require", "./scripts/pool-size.cjs"]);
    expect(poolSize({})).to.equal(String(Math.min(availableParallelism(), 8)));
    expect(poolSize({ UV_THREADPOOL_SIZE: "3" })).to.equal("3");
  });

  it("when --help is asked, then the process exits 0 with the usage", () => {
    const result = runAdmin(["--help"]);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.contain("Usage: admin").and.contain("rotate-key");
  });

  it("when an option is unknown, then the process exits 2", () => {
    const result = runAdmin(["--db", path.join(dir, "k.sqlite"), "orderer", "list", "--bogus"]);
    expect(result.status).to.equal(2);
    expect(result.stderr).to.contain("unknown option '--bogus'").and.not.match(/\n\s+at /);
  });
});
