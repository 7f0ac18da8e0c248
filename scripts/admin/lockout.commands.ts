import type { Command } from "commander";
import type { Unlocked } from "../../src/throttling/lockout.service.js";
import type { Outcome } from "../../src/result.js";
import type { Services } from "../../src/composition.js";
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

  const group = (name: string, description: string) =>
    program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
  const unlocks: { group: Command; what: string; description: string; argument: [string, string]; unlock: (s: Services, value: string) => Outcome<Unlocked> }[] = [
    {
      group: group("officer", ""), what: "login",
      description: "lift the login delay or the lock (after 100 failures) of a login id, real or not",
      argument: ["<login>", "the login id as typed at the login form"],
      unlock: (s, login) => s.lockouts.unlockLogin(login, ctx.deps.actor),
    },
    {
      group: group("key", "auth key verification of a contract number"), what: "contract number",
      description: "lift the verification delay or the lock (after 100 wrong keys) of a contract number",
      argument: ["<contract-no>", "the contract number, e.g. 02208-000001"],
      unlock: (s, contractNumber) => s.lockouts.unlockContract(contractNumber, ctx.deps.actor),
    },
    {
      group: group("address", "client addresses as the server sees them"), what: "address",
      description: "lift the daily block of a client address (e.g. an office's shared address after many mistakes)",
      argument: ["<address>", "the IP address, as in the audit trail"],
      unlock: (s, ip) => s.lockouts.unlockAddress(ip, ctx.deps.actor),
    },
  ];
  for (const u of unlocks) {
    u.group
      .command("unlock")
      .description(u.description)
      .argument(...u.argument)
      .action(run(async (value: string, _opts: unknown, cmd: Command) => ctx.withServices(cmd, (s) => report(u.what, u.unlock(s, value)))));
  }

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
