import type { Command } from "commander";
import { demoRefusal, seedDemo } from "../../src/demo/demo.js";
import { formatAuthKeyForPrint } from "../../src/format/normalize.js";
import { PRODUCT_NAMES } from "../../src/guarantees/certificate.schema.js";
import { loadOrCreateSealingKey } from "../../src/security/sealed-box.js";
import { formatTable, type CliContext, type Run } from "./context.js";

/** demo. */
export function addSystemCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command("demo")
    .description("seed the demo (issuer, むつ市, an officer, an administrator with a second factor, the source document's samples, verified, and their contracts) and print working credentials; safe to re-run")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, async (s, db) => {
        const refused = demoRefusal(s, ctx.config().nodeEnv);
        if (refused) return ctx.refuse([{ field: "database", message: refused }]);
        // The administrator's TOTP secret is sealed to the service's key: made here as the service's
        // first start would make it, when the demo runs before the service ever did.
        const key = loadOrCreateSealingKey(ctx.sealingKeyFile(cmd));
        if (!key.ok) return ctx.refuse([{ field: "WEBHOOK_KEY_FILE", message: key.problem }]);
        const demo = await seedDemo(s, ctx.deps.clock, { actor: ctx.deps.actor });
        const config = ctx.config();
        ctx.out(`Demo data is ready in ${db.name}${demo.created.guarantees.length > 0 ? "" : " (it was there already: new password and keys below)"}.`);
        ctx.out();
        ctx.out(`Officer of ${demo.officer.ordererName} (${demo.officer.ordererCode}), ${demo.officer.displayName}`);
        ctx.out(`  login:    ${demo.officer.login}`);
        ctx.out(`  password: ${demo.officer.password}`);
        ctx.out();
        ctx.out(`Administrator (所属管理者) of ${demo.officer.ordererName}, ${demo.admin.displayName}, with a second factor (add the secret to an authenticator app)`);
        ctx.out(`  login:    ${demo.admin.login}`);
        ctx.out(`  password: ${demo.admin.password}`);
        ctx.out(`  TOTP secret: ${demo.admin.totpSecret}`);
        ctx.out();
        ctx.out("Sample guarantees (contract number and auth key, as on the verify page)");
        formatTable(["  contract number", "product", "version", "auth key", "project"], demo.guarantees.map((g) => [
          `  ${g.contractNumber}`, PRODUCT_NAMES[g.product], g.label,
          g.authKey ? formatAuthKeyForPrint(g.authKey) : `(${g.status})`, g.projectName,
        ])).forEach((l) => ctx.out(l));
        ctx.out();
        ctx.out("The contract register (契約台帳, /contracts) holds the samples' contracts; R8-建築-002 is 要確認 (its 前払金額 is above the 保証金額).");
        ctx.out(`API client of ${demo.officer.ordererName} (README: "The API in five lines")`);
        ctx.out(`  client_id:     ${demo.apiClient.clientId}`);
        ctx.out(`  client_secret: ${demo.apiClient.clientSecret}`);
        ctx.out();
        ctx.out(`Open http://${config.host}:${config.port} (start the service with "npm start" if it is not running).`);
        ctx.err("Every run replaces the demo passwords, TOTP secret, keys and API secret; the ones printed before no longer work.");
        return 0;
      })));
}
