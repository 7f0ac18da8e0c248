import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/paths.js";

const SRC = path.join(projectRoot, "src");
const PLUMBING = new Set(["db", "http", "format", "security"]);
const PLUMBING_FILES = new Set(["clock.ts", "config.ts", "logger.ts", "paths.ts", "result.ts"]);
/** Above the concepts: they may import the composition root. */
const WHOLE_APP = new Set(["operations", "demo", "app.ts", "server.ts", "start.cts", "composition.ts"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : /\.c?ts$/.test(entry.name) ? [full] : [];
  });
}

/** The first path segment under src/: a concept or plumbing folder, or a top-level file. */
const homeOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)]
    .map((m) => path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts").replace(/\.cjs$/, ".cts")));
}

describe("architecture", () => {
  const files = sourceFiles(SRC);

  it("when plumbing (db, http, format, security and the root helpers) is read, then it imports no concept", () => {
    const offending: string[] = [];
    for (const file of files) {
      const home = homeOf(file);
      if (!PLUMBING.has(home) && !PLUMBING_FILES.has(home)) continue;
      for (const target of importsOf(file)) {
        const to = homeOf(target);
        if (!PLUMBING.has(to) && !PLUMBING_FILES.has(to)) offending.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`);
      }
    }
    expect(offending).to.deep.equal([]);
  });

  it("when concepts are read, then none imports the composition root, the app, operations or the demo", () => {
    const offending = files.filter((f) => !WHOLE_APP.has(homeOf(f)) && !PLUMBING.has(homeOf(f)))
      .flatMap((f) => importsOf(f).filter((t) => WHOLE_APP.has(homeOf(t))).map((t) => `${path.relative(SRC, f)} -> ${path.relative(SRC, t)}`));
    expect(offending).to.deep.equal([]);
  });

  it("when the folders' imports are drawn, then there is no cycle between them", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of files) {
      for (const target of importsOf(file)) {
        const [from, to] = [homeOf(file), homeOf(target)];
        if (from !== to) edges.set(from, (edges.get(from) ?? new Set()).add(to));
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, trail: string[]) => {
      if (trail.includes(node)) { cycles.push([...trail.slice(trail.indexOf(node)), node].join(" -> ")); return; }
      for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    expect(cycles).to.deep.equal([]);
  });

  it("when src is searched for SQL, then only repositories (the SQL functions' registration included) and the db plumbing hold any", () => {
    const offending = files.filter((f) => !f.endsWith(".repository.ts") && homeOf(f) !== "db")
      .filter((f) => /\.prepare\(|\.exec\(\s*["'`]|\.function\(\s*["']/.test(readFileSync(f, "utf8")))
      .map((f) => path.relative(SRC, f));
    expect(offending).to.deep.equal([]);
  });

  it("when repository factories are called, then each is called in one place: the composition root", () => {
    const calls = new Map<string, string[]>();
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(/(?<!function )\b(create\w+Repository)\(/g)) {
        calls.set(m[1]!, [...(calls.get(m[1]!) ?? []), path.relative(SRC, file)]);
      }
    }
    expect(calls.size, "repository factories found").to.be.greaterThan(5);
    for (const [factory, where] of calls) expect(where, factory).to.deep.equal(["composition.ts"]);
  });
});
