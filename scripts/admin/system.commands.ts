import { InvalidArgumentError, Option, type Command } from "commander";
import { checkExportDate, formatExport, type ExportFormat } from "../../src/audit/audit-export.js";
import { demoRefusal, seedDemo } from "../../src/demo/demo.js";
import { formatAuthKeyForPrint } from "../../src/format/normalize.js";
import { PRODUCT_NAMES } from "../../src/guarantees/certificate.schema.js";
import { parseOrdererCode } from "../../src/orderers/orderer.service.js";
import { formatTable, type CliContext, type Output, type Run } from "./context.js";

/** commander argument parsers: a bad value is a usage error (exit 2) with the reason. */
const ordererCodeArgument = (raw: string): string => {
  const code = parseOrdererCode(raw);
  if (!code.ok) throw new InvalidArgumentError(code.problems[0]!.message);
  return code.value;
};
const dateArgument = (raw: string): string => {
  const date = checkExportDate(raw);
  if (!date.ok) throw new InvalidArgumentError(date.message);
  return date.date;
};

/** Writes lines in chunks, waiting whenever a pipe's buffer is full, so that a large export
 * streams from the database to stdout instead of piling up in memory. */
async function writeLines(out: Output, lines: Iterable<string>): Promise<number> {
  const stream = out as Output & { once?: (event: "drain", listener: () => void) => unknown };
  let chunk = "";
  let count = 0;
  const flush = async () => {
    const more = out.write(chunk);
    chunk = "";
    if (more === false && typeof stream.once === "function") await new Promise<void>((resolve) => stream.once!("drain", resolve));
  };
  for (const line of lines) {
    chunk += line;
    count++;
    if (chunk.length >= 64 * 1024) await flush();
  }
  if (chunk.length > 0) await flush();
  return count;
}

/** demo, audit verify, audit export. */
export function addSystemCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command("demo")
    .description("seed the demo (issuer, むつ市, an officer, the source document's samples) and print working credentials; safe to re-run")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, async (s, db) => {
        const refused = demoRefusal(s, ctx.config().nodeEnv);
        if (refused) return ctx.refuse([{ field: "database", message: refused }]);
        const demo = await seedDemo(s, ctx.deps.clock, { actor: ctx.deps.actor });
        const config = ctx.config();
        ctx.out(`Demo data is ready in ${db.name}${demo.created.guarantees.length > 0 ? "" : " (it was there already: new password and keys below)"}.`);
        ctx.out();
        ctx.out(`Officer of ${demo.officer.ordererName} (${demo.officer.ordererCode}), ${demo.officer.displayName}`);
        ctx.out(`  login:    ${demo.officer.login}`);
        ctx.out(`  password: ${demo.officer.password}`);
        ctx.out();
        ctx.out("Sample guarantees (contract number and auth key, as on the verify page)");
        formatTable(["  contract number", "product", "version", "auth key", "project"], demo.guarantees.map((g) => [
          `  ${g.contractNumber}`, PRODUCT_NAMES[g.product], g.label,
          g.authKey ? formatAuthKeyForPrint(g.authKey) : `(${g.status})`, g.projectName,
        ])).forEach((l) => ctx.out(l));
        ctx.out();
        ctx.out(`API client of ${demo.officer.ordererName} (README: "The API in five lines")`);
        ctx.out(`  client_id:     ${demo.apiClient.clientId}`);
        ctx.out(`  client_secret: ${demo.apiClient.clientSecret}`);
        ctx.out();
        ctx.out(`Open http://${config.host}:${config.port} (start the service with "npm start" if it is not running).`);
        ctx.err("Every run replaces the demo password, keys and API secret; the ones printed before no longer work.");
        return 0;
      })));

  const audit = program.command("audit").description("the hash-chained audit trail");
  audit
    .command("verify")
    .description("check every row of the audit trail against its hash chain")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const check = s.audit.verifyChain();
        if (check.ok) {
          ctx.out(`audit trail OK: ${check.rows} row(s), chain intact`);
          return 0;
        }
        ctx.err(`error: audit trail BROKEN at row id ${check.firstBrokenId}: ${check.problem}`);
        return 1;
      })));

  audit
    .command("export")
    .description("print audit rows to stdout: one orderer's own history (logins, verifications, views, prints and what admins did to its guarantees) or all")
    .option("--orderer <code>", "only this orderer's rows (its 6-digit local government code)", ordererCodeArgument)
    .option("--since <date>", "from this Tokyo calendar date, inclusive (YYYY-MM-DD)", dateArgument)
    .option("--until <date>", "up to this Tokyo calendar date, inclusive (YYYY-MM-DD)", dateArgument)
    .addOption(new Option("--format <format>", "csv (UTF-8 with BOM, for Excel) or jsonl (one JSON object per line)").choices(["csv", "jsonl"]).default("csv"))
    .addHelpText("after", `
Times are stored in UTC (occurred_at) and also given in Japan time (occurred_at_jst). The rows
keep their prev_hash and hash, so a complete export can be checked against the chain. Rows never
hold passwords, auth keys, session ids or CSRF tokens. The export itself is audited.`)
    .action(run(async (opts: { orderer?: string; since?: string; until?: string; format: ExportFormat }, cmd: Command) => {
      if (opts.since !== undefined && opts.until !== undefined && opts.since > opts.until) {
        ctx.err(`error: --since ${opts.since} is after --until ${opts.until}`);
        return 2;
      }
      return ctx.withServices(cmd, async (s) => {
        if (opts.orderer !== undefined && !s.orderers.findByCode(opts.orderer)) {
          ctx.err(`error: no orderer ${opts.orderer} is registered`);
          return 1;
        }
        const filter = {
          ...(opts.orderer === undefined ? {} : { ordererCode: opts.orderer }),
          ...(opts.since === undefined ? {} : { since: opts.since }),
          ...(opts.until === undefined ? {} : { until: opts.until }),
        };
        const lines = await writeLines(ctx.deps.stdout, formatExport(s.audit.exportRows(filter), opts.format));
        const rows = opts.format === "csv" ? lines - 1 : lines;
        s.audit.record({
          event: "audit_export", outcome: "ok", actorKind: "admin", actor: ctx.deps.actor, ordererCode: opts.orderer ?? null,
          detail: { since: opts.since ?? null, until: opts.until ?? null, format: opts.format, rows },
        });
        ctx.err(`${rows} audit row(s) exported`);
        return 0;
      });
    }));
}
