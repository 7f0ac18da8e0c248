import type { Command } from "commander";
import { seedDemo } from "../../src/demo/demo.js";
import { formatAuthKeyForPrint } from "../../src/format/normalize.js";
import { PRODUCT_LABELS } from "../../src/guarantees/notice.js";
import { formatTable, type CliContext, type Run } from "./context.js";

/** demo, audit verify. */
export function addSystemCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command("demo")
    .description("seed the demo (issuer, むつ市, an officer, the source document's samples) and print working credentials; safe to re-run")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, async (s, db) => {
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
          `  ${g.contractNumber}`, PRODUCT_LABELS[g.product], g.label,
          g.authKey ? formatAuthKeyForPrint(g.authKey) : `(${g.status})`, g.projectName,
        ])).forEach((l) => ctx.out(l));
        ctx.out();
        ctx.out(`Open http://${config.host}:${config.port} (start the service with "npm start" if it is not running).`);
        ctx.err("Every run replaces the demo password and keys; the ones printed before no longer work.");
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
}
