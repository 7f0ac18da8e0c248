import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import request from "supertest";
import { apiDocumentPath, projectRoot } from "../../src/paths.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { expectProblem } from "./support.js";

describe("API: the OpenAPI document", () => {
  it("when docs/openapi.yaml is linted with @redocly/cli, then it passes with no error and no warning", async function () {
    this.timeout(120_000);
    const { stdout, stderr } = await promisify(execFile)("npx", ["--no-install", "redocly", "lint", "--format=stylish", apiDocumentPath], {
      cwd: projectRoot, env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    }).catch((error: { stdout: string; stderr: string }) => { throw new Error(`redocly lint failed:\n${error.stdout}\n${error.stderr}`); });
    // Redocly's own banner about Node 20 says "warning" too: only its findings count.
    const output = `${stdout}${stderr}`;
    expect(output).to.include("Your API description is valid");
    expect(output).not.to.match(/You have \d+ (warning|error)/);
  });

  describe("served", () => {
    let w: WebWorld;
    beforeEach(async () => { w = await buildTestApp(); });
    afterEach(() => w.close());

    it("when GET /api/v1/openapi.json, then the document as docs/openapi.yaml has it, without a token and without a cookie", async () => {
      const res = await request(w.app).get("/api/v1/openapi.json");
      expect(res.status).to.equal(200);
      expect(res.headers["content-type"]).to.match(/^application\/json/);
      expect(res.headers["set-cookie"]).to.equal(undefined);
      expect(res.body).to.deep.equal(JSON.parse(readFileSync(apiDocumentPath, "utf8")));
      expect(Object.keys(res.body.paths)).to.include.members(["/token", "/verifications", "/guarantees", "/guarantees/{contractNumber}", "/contracts/{reference}/checks"]);
    });

    it("when an unknown API path is asked for, then a 404 problem document, not the web's page", async () => {
      expectProblem(await request(w.app).get("/api/v1/nothing"), 404, "not-found");
      expectProblem(await request(w.app).delete("/api/v1/openapi.json"), 404, "not-found");
    });
  });
});
