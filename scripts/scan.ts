/**
 * npm run scan [-- --sqlmap-only | --wapiti-only] [--level N] [--risk N] [--max-minutes N] [--keep]
 * npm run scan -- --serve-only     (the scan target alone, for running scanners by hand)
 *
 * Black-box scan of the real app on loopback: a temporary database seeded through the services
 * (the demo world: an officer, three guarantees), the production app and HTTP server limits with
 * the throttles raised (a scanner makes thousands of failed attempts on purpose), real argon2
 * parameters. Then
 *   - Debian's sqlmap against POST /login and POST /verify, each with its own session cookie and
 *     sqlmap's CSRF handling (--csrf-token/--csrf-url re-reads the token before each request);
 *   - wapiti (unless --sqlmap-only) over the logged-in site, with the session cookie and /logout
 *     excluded.
 * Exits 0 when nothing was found, 1 on any finding (or any 5xx the server answered), 2 when a scan
 * could not run or did not reach the code it was meant to test (e.g. every request refused by CSRF).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig, type LimitOverrides } from "../src/config.js";
import { openMigratedDatabase } from "../src/db/database.js";
import { seedDemo } from "../src/demo/demo.js";
import { createHttpServer, listen } from "../src/http/listen.js";
import { createLogger } from "../src/logger.js";
import { createHasher } from "../src/security/hasher.js";
import { createLoginNameHash } from "../src/security/keyed-hash.js";
import { createServices } from "../src/composition.js";

/** The scan's only departure from production: attempts are not throttled, sessions do not idle out. */
const SCAN_LIMITS: LimitOverrides = {
  login: { delayFrom: 1e9, lockAt: 1e9 },
  contract: { delayFrom: 1e9, lockAt: 1e9 },
  officerContract: { delayFrom: 1e9, lockAt: 1e9 },
  officer: { limit: 1e9 },
  address: { limit: 1e9 },
  device: { limit: 1e9 },
  session: { idleMs: 24 * 3600_000, absoluteMs: 24 * 3600_000, anonymousLifetimeMs: 24 * 3600_000 },
  newSessions: { perAddress: 1e9 },
};

/**
 * Wapiti 3.0.4 findings that are decisions, not defects (docs/SECURITY.md, "Scans"):
 * - it wants `X-XSS-Protection: 1`; we send helmet's `0`, as OWASP now advises (the XSS auditor is
 *   gone from browsers and its blocking mode could be abused);
 * - the scan serves plain HTTP on loopback, so its session cookie cannot be Secure; production's
 *   is `__Host-kakunin; Secure` (test/security/sessions.test.ts).
 */
const ACCEPTED_WAPITI = [/^X-XSS-Protection is not set$/, /^Secure flag is not set in the cookie : kakunin$/];

/**
 * Debian's wapiti 3.0.4 crashes on Python 3.11 as soon as a URL is excluded (`-x`): its
 * wildcard_translate puts the `(?ms)` flags at the end of the pattern, which Python 3.11 refuses.
 * Without `-x /logout` the crawler would submit the logout form and scan the rest logged out, so
 * wapiti is started through this shim, which only swaps in a corrected wildcard_translate.
 */
const WAPITI_SHIM = `
import re, sys
import wapitiCore.net.crawler as crawler
crawler.wildcard_translate = lambda pattern: re.compile("(?ms)" + "".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\\Z")
from wapitiCore.main.wapiti import wapiti_main
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
`;

type Tally = Map<string, number>;
type Finding = string;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "sqlmap-only": { type: "boolean", default: false },
      "wapiti-only": { type: "boolean", default: false },
      level: { type: "string", default: "5" },
      risk: { type: "string", default: "3" },
      "max-minutes": { type: "string", default: "30" },
      keep: { type: "boolean", default: false },
      "serve-only": { type: "boolean", default: false },
    },
  });
  if (values["serve-only"]) return serveOnly();
  const level = Number(values.level);
  const risk = Number(values.risk);
  const maxMinutes = Number(values["max-minutes"]);
  const tools = values["sqlmap-only"] ? ["sqlmap"] : values["wapiti-only"] ? ["wapiti"] : ["sqlmap", "wapiti"];
  for (const tool of tools) {
    if (!(await onPath(tool))) {
      process.stderr.write(`scan: ${tool} is not installed (apt-get install -y --no-install-recommends sqlmap wapiti)\n`);
      return 2;
    }
  }

  const work = mkdtempSync(path.join(tmpdir(), "kakunin-scan-"));
  const target = await startTarget(work);
  const findings: Finding[] = [];
  let unusable = false;
  const deadline = Date.now() + maxMinutes * 60_000;
  try {
    log(`target ${target.url} (database ${target.databasePath})${tools.includes("sqlmap") ? `, sqlmap level ${level} risk ${risk}` : ""}`);

    for (const form of tools.includes("sqlmap") ? (["login", "verify"] as const) : []) {
      const before = snapshot(target.tally);
      const result = await runSqlmap(target, form, { level, risk, outputDir: path.join(work, `sqlmap-${form}`), timeoutMs: Math.max(60_000, deadline - Date.now()) });
      const sent = difference(target.tally, before);
      const reached = sumWhere(sent, (key) => key.startsWith(`POST /${form} `) && !key.endsWith(" 403"));
      const refused = sumWhere(sent, (key) => key === `POST /${form} 403`);
      log(`sqlmap ${form}: ${result.verdict}; server saw ${describe(sent)}`);
      if (result.verdict === "injectable") findings.push(`sqlmap: POST /${form} is injectable:\n${result.evidence}`);
      else if (result.verdict !== "clean") { unusable = true; log(`sqlmap ${form} did not finish cleanly:\n${result.evidence}`); }
      if (reached < 20 || refused > reached) {
        unusable = true;
        log(`sqlmap ${form}: only ${reached} requests got past CSRF (${refused} refused): the scan proves nothing`);
      }
    }

    if (tools.includes("wapiti")) {
      const before = snapshot(target.tally);
      const wapiti = await runWapiti(target, path.join(work, "wapiti"), Math.max(60, Math.floor((deadline - Date.now()) / 1000)));
      const sent = difference(target.tally, before);
      log(`wapiti: ${wapiti.findings.length} finding(s), ${wapiti.accepted.length} accepted; server saw ${describe(sent)}`);
      for (const accepted of wapiti.accepted) log(`  accepted: ${accepted}`);
      findings.push(...wapiti.findings.map((f) => `wapiti: ${f}`));
      if (wapiti.error) { unusable = true; log(`wapiti did not run: ${wapiti.error}`); }
      if (sumWhere(sent, (key) => key.startsWith("GET /verified ") || key.startsWith("GET /guarantees/")) === 0) {
        unusable = true;
        log("wapiti never reached the logged-in pages: the scan proves nothing");
      }
    }

    const errors = sumWhere(target.tally, (key) => /\s5\d\d$/.test(key) && !key.endsWith(" 503"));
    if (errors > 0) findings.push(`the server answered ${errors} request(s) with a 5xx: ${describe(target.tally, (k) => /\s5\d\d$/.test(k))}`);
  } finally {
    await target.close();
    if (!values.keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }

  for (const finding of findings) process.stdout.write(`FINDING ${finding}\n`);
  if (findings.length > 0) return 1;
  if (unusable) return 2;
  log("no findings");
  return 0;
}

/** --serve-only: the scan target for manual scanning, until Ctrl-C. */
async function serveOnly(): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), "kakunin-scan-"));
  const target = await startTarget(work);
  const officer = await session(target, true);
  log(`serving ${target.url} until Ctrl-C; officer ${target.officer.login} / ${target.officer.password}`);
  log(`logged-in cookie: ${officer.cookie}; its CSRF token: ${officer.token}`);
  await new Promise((resolve) => process.once("SIGINT", resolve));
  await target.close();
  rmSync(work, { recursive: true, force: true });
  return 0;
}

/** The app over a fresh seeded database, listening on a free loopback port; every response tallied. */
async function startTarget(work: string) {
  const databasePath = path.join(work, "kakunin.sqlite");
  const config = loadConfig(
    { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", DATABASE_PATH: databasePath, SESSION_SECRET: randomBytes(32).toString("hex"), COOKIE_SECURE: "false" },
    { limits: SCAN_LIMITS },
  );
  const db = openMigratedDatabase(config.databasePath);
  const hasher = await createHasher(config.argon2);
  const services = createServices({ db, clock: systemClock, hasher, limits: config.limits, loginNames: createLoginNameHash(config.sessionSecrets[0]!) });
  const demo = await seedDemo(services, systemClock, { actor: "scan" });
  const logFile = path.join(work, "server.log");
  const logger = createLogger({ level: "warn", destination: { write: (line: string) => void writeFileSync(logFile, line, { flag: "a" }) } });
  const app = createApp({ config, services, clock: systemClock, logger });
  const tally: Tally = new Map();
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    res.on("finish", () => {
      const key = `${req.method} ${(req.url ?? "").split("?")[0]!.replace(/^\/guarantees\/.*/, "/guarantees/…")} ${res.statusCode}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    });
    app(req, res);
  }, config.limits.server);
  const port = await listen(server, 0, "127.0.0.1");
  const guarantee = demo.guarantees.find((g) => g.authKey !== null)!;
  return {
    url: `http://127.0.0.1:${port}`,
    databasePath,
    tally,
    officer: demo.officer,
    guarantee: { contractNumber: guarantee.contractNumber, authKey: guarantee.authKey! },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      app.close();
      db.close();
    },
  };
}

type Target = Awaited<ReturnType<typeof startTarget>>;

/** A session cookie and its CSRF token: anonymous (the login page's pre-session) or logged in. */
async function session(target: Target, loggedIn: boolean): Promise<{ cookie: string; token: string }> {
  const page = await fetch(`${target.url}/login`, { redirect: "manual" });
  let cookie = cookieOf(page);
  const token = tokenOf(await page.text());
  if (!loggedIn) return { cookie, token };
  const body = new URLSearchParams({ _csrf: token, username: target.officer.login, password: target.officer.password });
  const res = await fetch(`${target.url}/login`, { method: "POST", body, headers: { Cookie: cookie }, redirect: "manual" });
  if (res.status !== 303) throw new Error(`scan: cannot log in (${res.status})`);
  cookie = cookieOf(res);
  const verifyPage = await fetch(`${target.url}/verify`, { headers: { Cookie: cookie } });
  const verifyToken = tokenOf(await verifyPage.text());
  // Verify one guarantee, so that the verified list and the guarantee pages have something to show.
  const verified = await fetch(`${target.url}/verify`, {
    method: "POST", headers: { Cookie: cookie }, redirect: "manual",
    body: new URLSearchParams({ _csrf: verifyToken, contractNumber: target.guarantee.contractNumber, authKey: target.guarantee.authKey }),
  });
  if (verified.status !== 303) throw new Error(`scan: cannot verify the demo guarantee (${verified.status})`);
  return { cookie, token: verifyToken };
}

function cookieOf(res: Response): string {
  const set = res.headers.getSetCookie();
  if (set.length === 0) throw new Error("scan: no session cookie");
  return set.map((c) => c.split(";")[0]).join("; ");
}

function tokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("scan: no CSRF token on the page");
  return match[1]!;
}

type SqlmapVerdict = { verdict: "clean" | "injectable" | "inconclusive"; evidence: string };

async function runSqlmap(target: Target, form: "login" | "verify", options: { level: number; risk: number; outputDir: string; timeoutMs: number }): Promise<SqlmapVerdict> {
  mkdirSync(options.outputDir, { recursive: true });
  const { cookie, token } = await session(target, form === "verify");
  const data = form === "login"
    // A wrong password: a right one would log in, and the new session would strand sqlmap's cookie.
    ? `_csrf=${token}&username=${target.officer.login}&password=not-the-password-scan`
    : `_csrf=${token}&contractNumber=${target.guarantee.contractNumber}&authKey=ZZZZZZZZZZZZ`;
  const args = [
    "-u", `${target.url}/${form}`, "--data", data,
    "-p", form === "login" ? "username,password" : "contractNumber,authKey",
    "--cookie", cookie, "--drop-set-cookie",
    // A URL that differs from the target's, or sqlmap fetches the token by re-POSTing the form.
    "--csrf-token", "_csrf", "--csrf-url", `${target.url}/${form}?token`, "--csrf-method", "GET",
    "--ignore-code", "401",
    "--level", String(options.level), "--risk", String(options.risk),
    "--batch", "--flush-session", "--disable-coloring", "--output-dir", options.outputDir,
  ];
  const { output, code } = await run("sqlmap", args, options.timeoutMs);
  const lines = output.split("\n");
  const evidence = lines.filter((l) => /injectable|injection point|CRITICAL|ERROR|WARNING.*(CSRF|connection)/i.test(l)).slice(-20).join("\n");
  if (/identified the following injection point|is vulnerable|appears to be '.*' injectable/i.test(output) && !/do not appear to be injectable/.test(output.split("\n").slice(-30).join("\n"))) {
    return { verdict: "injectable", evidence };
  }
  if (/all tested parameters do not appear to be injectable/i.test(output)) return { verdict: "clean", evidence };
  return { verdict: "inconclusive", evidence: `exit ${code}\n${lines.slice(-25).join("\n")}` };
}

async function runWapiti(target: Target, dir: string, maxSeconds: number): Promise<{ findings: string[]; accepted: string[]; error?: string }> {
  mkdirSync(dir, { recursive: true });
  const { cookie } = await session(target, true);
  const jar: Record<string, Record<string, Record<string, unknown>>> = { "127.0.0.1": { "/": {} } };
  for (const pair of cookie.split("; ")) {
    const [name, ...value] = pair.split("=");
    jar["127.0.0.1"]!["/"]![name!] = { value: value.join("="), expires: null, secure: false, port: null, version: 0 };
  }
  const cookieFile = path.join(dir, "cookies.json");
  writeFileSync(cookieFile, JSON.stringify(jar));
  const report = path.join(dir, "report.json");
  const { output, code } = await run(await wapitiPython(), ["-c", WAPITI_SHIM,
    "-u", `${target.url}/`, "--scope", "folder",
    "-s", `${target.url}/verify`, "-s", `${target.url}/verified`, "-s", `${target.url}/password`, "-s", `${target.url}/orderers`,
    "-s", `${target.url}/guarantees/${target.guarantee.contractNumber}`, "-s", `${target.url}/contracts`,
    "-x", `${target.url}/logout`, "--skip", "_csrf",
    "-c", cookieFile,
    "-m", "blindsql,cookieflags,crlf,csp,exec,file,http_headers,methods,permanentxss,redirect,sql,ssrf,xss,xxe",
    "--flush-session", "--store-session", path.join(dir, "session"), "--store-config", path.join(dir, "config"),
    "--max-scan-time", String(maxSeconds), "--max-attack-time", String(Math.max(30, Math.floor(maxSeconds / 8))),
    "-f", "json", "-o", report, "-v", "1", "--no-bugreport",
  ], (maxSeconds + 60) * 1000);
  let parsed: { vulnerabilities?: Record<string, { info?: string; path?: string; method?: string; parameter?: string }[]>; anomalies?: Record<string, { info?: string; path?: string }[]> };
  try {
    parsed = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    return { findings: [], accepted: [], error: `no report (exit ${code}):\n${output.split("\n").slice(-20).join("\n")}` };
  }
  const findings: string[] = [];
  const accepted: string[] = [];
  for (const [kind, groups] of [["vulnerability", parsed.vulnerabilities ?? {}], ["anomaly", parsed.anomalies ?? {}]] as const) {
    for (const [category, entries] of Object.entries(groups)) {
      for (const entry of entries) {
        const text = `${kind} ${category}: ${entry.info ?? ""} (${entry.path ?? ""})`;
        if (ACCEPTED_WAPITI.some((re) => re.test(entry.info ?? ""))) accepted.push(text);
        else findings.push(text);
      }
    }
  }
  return { findings, accepted };
}

/** Runs a tool without blocking the event loop (the server under scan lives in this process). */
function run(command: string, args: string[], timeoutMs: number): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONWARNINGS: "ignore" } });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    child.stderr.on("data", (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => { clearTimeout(timer); resolve({ output, code }); });
  });
}

/** The interpreter on wapiti's #! line: the Python that has wapitiCore (not necessarily the first python3 on PATH). */
async function wapitiPython(): Promise<string> {
  const { output } = await run("sh", ["-c", "head -n 1 \"$(command -v wapiti)\""], 5000);
  const interpreter = /^#!\s*(\S+)/.exec(output)?.[1];
  return interpreter ?? "python3";
}

function onPath(tool: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    child.on("close", (code) => resolve(code === 0));
  });
}

const snapshot = (tally: Tally): Tally => new Map(tally);
function difference(after: Tally, before: Tally): Tally {
  const out: Tally = new Map();
  for (const [key, n] of after) if (n - (before.get(key) ?? 0) > 0) out.set(key, n - (before.get(key) ?? 0));
  return out;
}
const sumWhere = (tally: Tally, keep: (key: string) => boolean) => [...tally].filter(([k]) => keep(k)).reduce((sum, [, n]) => sum + n, 0);
const describe = (tally: Tally, keep: (key: string) => boolean = () => true) =>
  [...tally].filter(([k]) => keep(k)).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} x${n}`).join(", ") || "nothing";
const log = (message: string) => process.stdout.write(`[scan] ${message}\n`);

process.exitCode = await main(process.argv.slice(2));
