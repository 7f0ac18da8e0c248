import type { Command } from "commander";
import type { Unlocked } from "../../src/security/lockout.service.js";
import type { Outcome } from "../../src/result.js";
import { formatTable, type CliContext, type Run } from "./context.js";

/** officer unlock, key unlock, address unlock and locks: lifting the throttles' delays and locks. */
export function addLockoutCommands(program: Command, ctx: CliContext, run: Run): void {
  const report = (what: string, unlocked: Outcome<Unlocked>): number => {
    if (!unlocked.ok) return ctx.refuse(unlocked.problems);
    const u = unlocked.value;
    ctx.out(u.wasThrottled || u.failures > 0
      ? `${what} ${u.key} unlocked (${u.locked ? "was locked" : u.wasThrottled ? "was delayed" : "not delayed"}, ${u.failures} failure(s) forgotten)`
      : `${what} ${u.key} had no failures to forget; nothing changed`);
    return 0;
  };

  const officer = program.commands.find((c) => c.name() === "officer")!;
  officer
    .command("unlock")
    .description("lift the login delay or the lock (after 100 failures) of a login id, real or not")
    .argument("<login>", "the login id as typed at the login form")
    .action(run(async (login: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => report("login", s.lockouts.unlockLogin(login, ctx.deps.actor)))));

  const key = program.command("key").description("auth key verification of a contract number");
  key
    .command("unlock")
    .description("lift the verification delay or the lock (after 100 wrong keys) of a contract number")
    .argument("<contract-no>", "the contract number, e.g. 02208-000001")
    .action(run(async (contractNumber: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => report("contract number", s.lockouts.unlockContract(contractNumber, ctx.deps.actor)))));

  const address = program.command("address").description("client addresses as the server sees them");
  address
    .command("unlock")
    .description("lift the daily block of a client address (e.g. an office's shared address after many mistakes)")
    .argument("<address>", "the IP address, as in the audit trail")
    .action(run(async (ip: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => report("address", s.lockouts.unlockAddress(ip, ctx.deps.actor)))));

  program
    .command("locks")
    .description("list the login ids and contract numbers locked until an admin unlocks them")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const locked = s.lockouts.listLocked();
        const rows = [
          ...locked.logins.map((l) => ["login", l.key, String(l.failures)]),
          ...locked.contracts.map((c) => ["contract number", c.key, String(c.failures)]),
        ];
        if (rows.length === 0) ctx.out("nothing is locked");
        else formatTable(["kind", "locked", "failures"], rows).forEach((l) => ctx.out(l));
        return 0;
      })));
}
