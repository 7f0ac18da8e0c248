import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createViewEngine } from "../../src/http/views.js";

describe("the view engine", () => {
  let dir: string;
  const write = (name: string, source: string) => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), source);
  };
  const render = (engine: ReturnType<typeof createViewEngine>, name: string, model: object) =>
    new Promise<string>((resolve, reject) => engine(path.join(dir, name), model, (error, html) => (error ? reject(error) : resolve(html!))));

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-views-"));
    write("layouts/main.hbs", "<title>{{title}}</title><main>{{{body}}}</main>");
    write("partials/stamp.hbs", "<b>{{label}}</b>");
    write("guarantees/page.hbs", "<p>{{name}}</p>{{> stamp status}}");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("when a page is rendered, then it sits in the layout with its partials, and the model's text is escaped", async () => {
    const html = await render(createViewEngine(dir), "guarantees/page.hbs", { title: "保証証書", name: "<script>むつ市</script>", status: { label: "有効" } });
    expect(html).to.equal("<title>保証証書</title><main><p>&lt;script&gt;むつ市&lt;/script&gt;</p><b>有効</b></main>");
  });

  it("when a template is broken, then the engine cannot be built and the error names the file", () => {
    write("guarantees/broken.hbs", "<p>{{#if name}}unclosed</p>");
    expect(() => createViewEngine(dir)).to.throw(/guarantees[/\\]broken\.hbs cannot be compiled/);
  });

  it("when a template parses but cannot compile, then the engine cannot be built (not a 500 at its first render)", () => {
    write("guarantees/odd.hbs", "<p>{{> stamp status other}}</p>");
    expect(() => createViewEngine(dir)).to.throw(/guarantees[/\\]odd\.hbs cannot be compiled/);
  });

  it("when a template names a partial that does not exist, then the engine cannot be built", () => {
    write("guarantees/typo.hbs", "<p>{{> stmap status}}</p>");
    expect(() => createViewEngine(dir)).to.throw(/guarantees\/typo\.hbs uses the partial "stmap"/);
  });

  it("when a page that was not there at start-up is asked for, then the render fails instead of reading the disk", async () => {
    const engine = createViewEngine(dir);
    write("guarantees/later.hbs", "<p>later</p>");
    let failure: unknown;
    await render(engine, "guarantees/later.hbs", {}).catch((error: unknown) => { failure = error; });
    expect(String(failure)).to.match(/no template .*later\.hbs/);
  });

  it("when there is no layout, then the engine cannot be built", () => {
    rmSync(path.join(dir, "layouts"), { recursive: true });
    expect(() => createViewEngine(dir)).to.throw(/no layouts\/main\.hbs/);
  });
});
