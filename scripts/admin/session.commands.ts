import type { Command } from "commander";
import type { CliContext, Run } from "./context.js";

/** sessions revoke --all: every officer logs in again (after a leak, or to enforce a rotation). */
export function addSessionCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command("sessions")
    .description("officer sessions as a whole (one officer's: officer sessions LOGIN --revoke)")
    .command("revoke")
    .description("end every officer's every session at once (audited)")
    .option("--all", "every session of every officer (required)")
    .action(run(async (opts: { all?: boolean }, cmd: Command) => {
      if (!opts.all) cmd.error("error: say --all to end every officer's sessions (one officer: officer sessions LOGIN --revoke)", { exitCode: 2, code: "kakunin.usage" });
      return ctx.withServices(cmd, (s) => {
        ctx.out(`${s.sessions.revokeAll(ctx.deps.actor)} session(s) ended; every officer must log in again`);
        return 0;
      });
    }));
}
