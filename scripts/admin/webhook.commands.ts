import type { Command } from "commander";
import { formatTable, type CliContext, type Run } from "./context.js";

const STATUS_ROWS = 50;
/** How long `webhook test` waits for the service to send the ping, by default. */
const DEFAULT_WAIT_SECONDS = 20;

/** webhook add|list|remove|test|status|retry: where an orderer's events are POSTed (Standard Webhooks). */
export function addWebhookCommands(program: Command, ctx: CliContext, run: Run): void {
  const group = program.command("webhook").description("webhooks: an orderer's events POSTed to its own systems, signed (Standard Webhooks)");

  group
    .command("add")
    .description("add an endpoint for an orderer; prints its signing secret (whsec_…) once")
    .requiredOption("--orderer <code>", "the orderer's 6-digit code, e.g. 022080")
    .requiredOption("--url <url>", "where to POST, https://… (its host must resolve to public addresses in production)")
    .option("--json", "print the endpoint and secret as one JSON object")
    .action(run(async (opts: { orderer: string; url: string; json?: boolean }, cmd: Command) =>
      ctx.withServices(cmd, async (s) => {
        const added = await s.webhooks.add({ ordererCode: opts.orderer, url: opts.url }, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        const { endpoint, secret } = added.value;
        if (opts.json) {
          ctx.out(JSON.stringify({ endpoint_id: endpoint.endpointId, orderer: endpoint.ordererCode, url: endpoint.url, secret }));
          return 0;
        }
        ctx.out(`endpoint: ${endpoint.endpointId}`);
        ctx.out(`url:      ${endpoint.url}`);
        ctx.out(`secret:   ${secret}`);
        ctx.out(`(for ${endpoint.ordererCode}; the secret is shown only now: the receiver verifies webhook-signature with it)`);
        return 0;
      })));

  group
    .command("list")
    .description("list the webhook endpoints (of one orderer with --orderer)")
    .option("--orderer <code>", "only this orderer's endpoints")
    .action(run(async (opts: { orderer?: string }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const listed = s.webhooks.list(opts.orderer);
        if (!listed.ok) return ctx.refuse(listed.problems);
        if (listed.value.length === 0) ctx.err("no webhook endpoints (add one with \"webhook add\")");
        else formatTable(["endpoint", "orderer", "state", "created at", "url"], listed.value.map((e) => [
          e.endpointId, e.ordererCode, e.state === "active" ? "active" : `gone (410 at ${e.stateChangedAt})`, e.createdAt, e.url,
        ])).forEach((l) => ctx.out(l));
        return 0;
      })));

  group
    .command("remove")
    .description("remove an endpoint; what still waits for it is given up")
    .argument("<endpoint>", "the endpoint id, e.g. wh_…")
    .action(run(async (endpointId: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const removed = s.webhooks.remove(endpointId, ctx.deps.actor);
        if (!removed.ok) return ctx.refuse(removed.problems);
        ctx.out(`webhook endpoint ${removed.value.endpointId} (${removed.value.url}) removed`);
        return 0;
      })));

  group
    .command("test")
    .description("queue a ping event for the endpoint and wait for the running service to deliver it")
    .argument("<endpoint>", "the endpoint id, e.g. wh_…")
    .option("--wait <seconds>", "how long to wait for the first attempt", String(DEFAULT_WAIT_SECONDS))
    .action(run(async (endpointId: string, opts: { wait: string }, cmd: Command) => {
      const wait = Number(opts.wait);
      if (!/^\d{1,4}$/.test(opts.wait)) return ctx.refuse([{ field: "--wait", message: `must be a number of seconds (got "${opts.wait}")` }]);
      return ctx.withServices(cmd, async (s) => {
        const queued = s.webhooks.queuePing(endpointId, ctx.deps.actor);
        if (!queued.ok) return ctx.refuse(queued.problems);
        const { messageId } = queued.value;
        const until = Date.now() + wait * 1000;
        for (;;) {
          const row = s.webhooks.findDelivery(messageId)!;
          if (row.sentAt) {
            ctx.out(`ping ${messageId} delivered to ${queued.value.endpoint.url}`);
            return 0;
          }
          if (row.attempts > 0) {
            ctx.err(`error: ping ${messageId} not delivered: ${row.lastError}${row.failedAt ? " (given up)" : `; retried at ${row.nextAttemptAt}`}`);
            return 1;
          }
          if (Date.now() >= until) {
            ctx.err(`error: ping ${messageId} queued but not tried within ${wait} s: is the service running? ("webhook status" shows it later)`);
            return 1;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      });
    }));

  group
    .command("status")
    .description("what waits in the webhook outbox, and why")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const { counts, unsent } = s.webhooks.status(STATUS_ROWS);
        ctx.out(`pending ${counts.pending}, failed ${counts.failed}, sent ${counts.sent}`);
        if (unsent.length === 0) return 0;
        formatTable(["id", "state", "endpoint", "webhook-id", "type", "attempts", "next attempt (UTC)", "last error"], unsent.map((r) => [
          String(r.id), r.failedAt ? "failed" : "pending", r.recipient, r.messageId, r.content.type, String(r.attempts), r.failedAt ? "-" : r.nextAttemptAt, r.lastError ?? "-",
        ])).forEach((l) => ctx.out(l));
        if (unsent.length === STATUS_ROWS) ctx.out(`(the first ${STATUS_ROWS} shown)`);
        return 0;
      })));

  group
    .command("retry")
    .description("re-queue the webhooks that were given up (failed), to be sent now")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const count = s.webhooks.retryFailed(ctx.deps.actor);
        ctx.out(`${count} failed webhook${count === 1 ? "" : "s"} re-queued`);
        return 0;
      })));
}
