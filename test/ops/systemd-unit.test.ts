import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

describe("the documented systemd unit", () => {
  it("when docs/operations.md says how systemd starts the service, then it is exactly npm run serve's command, V8 flags included", () => {
    const serve = (JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: { serve: string } }).scripts.serve;
    const unit = readFileSync(path.join(projectRoot, "docs", "operations.md"), "utf8");
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1];
    expect(execStart).to.equal(`/usr/bin/${serve}`);
  });
});
