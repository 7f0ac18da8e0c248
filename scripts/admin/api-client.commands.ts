import type { Command } from "commander";
import type { ApiClient } from "../../src/api-clients/api-client.repository.js";
import type { IssuedCredentials } from "../../src/api-clients/api-client.service.js";
import { formatTable, type CliContext, type Run } from "./context.js";

/** api-client add|list|disable|enable|rotate-secret: the orderers' own systems calling the API. */
export function addApiClientCommands(program: Command, ctx: CliContext, run: Run): void {
  const group = program.command("api-client").description("API clients: an orderer's own systems (OAuth 2.0 client credentials)");

  // The secret is shown here once and never again: only its SHA-256 is stored.
  const printCredentials = (issued: IssuedCredentials, json: boolean) => {
    const { client, clientSecret } = issued;
    if (json) {
      ctx.out(JSON.stringify({ client_id: client.clientId, client_secret: clientSecret, orderer: client.ordererCode, name: client.name }));
      return;
    }
    ctx.out(`client_id:     ${client.clientId}`);
    ctx.out(`client_secret: ${clientSecret}`);
    ctx.out(`(for ${client.ordererCode} ${client.name}; the secret is shown only now: hand it over securely)`);
  };

  group
    .command("add")
    .description("register an API client for an orderer; prints its client_id and client_secret once")
    .requiredOption("--orderer <code>", "the orderer's 6-digit code, e.g. 022080")
    .requiredOption("--name <name>", "what the client is, e.g. 契約管理システム")
    .option("--json", "print the credentials as one JSON object")
    .action(run(async (opts: { orderer: string; name: string; json?: boolean }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const added = s.apiClients.add({ ordererCode: opts.orderer, name: opts.name }, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        printCredentials(added.value, opts.json === true);
        return 0;
      })));

  group
    .command("list")
    .description("list the API clients (of one orderer with --orderer)")
    .option("--orderer <code>", "only this orderer's clients")
    .action(run(async (opts: { orderer?: string }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const listed = s.apiClients.list(opts.orderer);
        if (!listed.ok) return ctx.refuse(listed.problems);
        const rows = listed.value.map((c: ApiClient) => [c.clientId, c.ordererCode, c.name, c.active ? "active" : "disabled", c.secretSetAt]);
        if (rows.length === 0) ctx.err("no API clients (add one with \"api-client add\")");
        else formatTable(["client_id", "orderer", "name", "state", "secret set at"], rows).forEach((l) => ctx.out(l));
        return 0;
      })));

  for (const [name, active, description] of [
    ["disable", false, "disable a client: its tokens stop working at its next request"],
    ["enable", true, "enable a disabled client again"],
  ] as const) {
    group
      .command(name)
      .description(description)
      .argument("<client-id>", "the client_id, e.g. kc_…")
      .action(run(async (clientId: string, _opts: unknown, cmd: Command) =>
        ctx.withServices(cmd, (s) => {
          const changed = s.apiClients.setActive(clientId, active, ctx.deps.actor);
          if (!changed.ok) return ctx.refuse(changed.problems);
          ctx.out(changed.value.changed ? `API client ${clientId} ${active ? "enabled" : "disabled"}` : `API client ${clientId} was already ${active ? "enabled" : "disabled"}; nothing changed`);
          return 0;
        })));
  }

  group
    .command("rotate-secret")
    .description("give a client a new secret (printed once); the old one stops working at once")
    .argument("<client-id>", "the client_id, e.g. kc_…")
    .option("--json", "print the credentials as one JSON object")
    .action(run(async (clientId: string, opts: { json?: boolean }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const rotated = s.apiClients.rotateSecret(clientId, ctx.deps.actor);
        if (!rotated.ok) return ctx.refuse(rotated.problems);
        printCredentials(rotated.value, opts.json === true);
        return 0;
      })));
}
