import type { Command } from "commander";
import { formatTable, type CliContext, type Run } from "./context.js";

const MAIL_STATUS_ROWS = 50;

/** orderer mail add|remove|list, mail status|retry, notify scan. */
export function addNotificationCommands(program: Command, ctx: CliContext, run: Run): void {
  const orderer = program.commands.find((c) => c.name() === "orderer")!;
  const mailbox = orderer.command("mail").description("the orderer's mailboxes, which receive its notices (e.g. keiyaku@city.mutsu.lg.jp)");

  mailbox
    .command("add")
    .description("add a mailbox to the orderer")
    .argument("<code>", "the orderer's code, e.g. 022080")
    .argument("<address>", "a mail address")
    .action(run(async (code: string, address: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const added = s.mail.addMailbox(code, address, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        ctx.out(`mailbox ${added.value} added to orderer ${code.trim()}`);
        return 0;
      })));

  mailbox
    .command("remove")
    .description("remove a mailbox from the orderer (mails already queued for it are still delivered)")
    .argument("<code>", "the orderer's code")
    .argument("<address>", "the mail address")
    .action(run(async (code: string, address: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const removed = s.mail.removeMailbox(code, address, ctx.deps.actor);
        if (!removed.ok) return ctx.refuse(removed.problems);
        ctx.out(`mailbox ${removed.value} removed from orderer ${code.trim()}`);
        return 0;
      })));

  mailbox
    .command("list")
    .description("list the orderer's mailboxes")
    .argument("<code>", "the orderer's code")
    .action(run(async (code: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const listed = s.mail.listMailboxes(code);
        if (!listed.ok) return ctx.refuse(listed.problems);
        if (listed.value.length === 0) ctx.err(`orderer ${code.trim()} has no mailbox (add one with "orderer mail add")`);
        listed.value.forEach((address) => ctx.out(address));
        return 0;
      })));

  const mail = program.command("mail").description("the mail outbox");

  mail
    .command("status")
    .description("what waits in the mail outbox, and why")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const { counts, unsent } = s.mail.status(MAIL_STATUS_ROWS);
        ctx.out(`pending ${counts.pending}, failed ${counts.failed}, sent ${counts.sent}${ctx.config().mail.smtpUrl === null ? " (SMTP_URL is not set: nothing is sent)" : ""}`);
        if (unsent.length === 0) return 0;
        const rows = unsent.map((r) => [
          String(r.id), r.failedAt ? "failed" : "pending", r.recipient, String(r.attempts),
          r.failedAt ? "-" : r.nextAttemptAt, r.lastError ?? "-", r.content.subject,
        ]);
        formatTable(["id", "state", "to", "attempts", "next attempt (UTC)", "last error", "subject"], rows).forEach((l) => ctx.out(l));
        if (unsent.length === MAIL_STATUS_ROWS) ctx.out(`(the first ${MAIL_STATUS_ROWS} shown)`);
        return 0;
      })));

  mail
    .command("retry")
    .description("re-queue the mails that were given up (failed), to be sent now")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const count = s.mail.retryFailed(ctx.deps.actor);
        ctx.out(`${count} failed mail${count === 1 ? "" : "s"} re-queued`);
        return 0;
      })));

  program
    .command("notify")
    .description("notifications")
    .command("scan")
    .description("record today's expiry warnings and 未提出 reminders (the service also runs this daily at 08:00 JST)")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const result = s.notifications.scan();
        ctx.out(`scan of ${result.today}: ${result.events} new notice${result.events === 1 ? "" : "s"}, ${result.mails} mail${result.mails === 1 ? "" : "s"} queued`);
        return 0;
      })));
}
