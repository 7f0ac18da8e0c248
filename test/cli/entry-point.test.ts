import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

/** The real entry point, as `npm run admin -- ...` runs it. */
function runAdmin(args: string[]) {
  const env = { ...process.env };
  delete env.KAKUNIN_DEBUG;
  return spawnSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], { cwd: projectRoot, env, encoding: "utf8", timeout: 60_000 });
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
