import { InvalidArgumentError, Option, type Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { checkExportDate, formatExport, type ExportFormat } from "../../src/audit/audit-export.js";
import type { TrailTrust } from "../../src/audit/audit.service.js";
import { readCheckpointLog } from "../../src/audit/checkpoint-log.js";
import { verifyExport } from "../../src/audit/export-verify.js";
import { loadSigningKey, parsePublicKey, publicKeyFileOf, publicKeyPem } from "../../src/audit/signing-key.js";
import { expectedAuditTriggers } from "../../src/operations/check.js";
import { parseOrdererCode } from "../../src/orderers/orderer.service.js";
import type { CliContext, Output, Run } from "./context.js";

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
async function writeLines(out: Output, lines: Iterable<string>): Promise<void> {
  const stream = out as Output & { once?: (event: "drain", listener: () => void) => unknown };
  let chunk = "";
  const flush = async () => {
    const more = out.write(chunk);
    chunk = "";
    if (more === false && typeof stream.once === "function") await new Promise<void>((resolve) => stream.once!("drain", resolve));
  };
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= 64 * 1024) await flush();
  }
  if (chunk.length > 0) await flush();
}

/**
 * The public key checkpoints are checked with: --public-key (a PEM file, or base64 SPKI), else the
 * .pub file the service wrote beside its key, else the key itself when this user can read it.
 */
export function resolvePublicKey(ctx: CliContext, command: Command, option: string | undefined): { ok: true; key: KeyObject | undefined } | { ok: false } {
  if (option !== undefined) {
    const text = existsSync(option) ? readFileSync(option, "utf8") : option;
    const parsed = parsePublicKey(text);
    if (!parsed.ok) {
      ctx.err(`error: --public-key: ${parsed.problem}`);
      return { ok: false };
    }
    return { ok: true, key: parsed.key };
  }
  const { keyFile } = ctx.auditFiles(command);
  const pubFile = publicKeyFileOf(keyFile);
  if (existsSync(pubFile)) {
    const parsed = parsePublicKey(readFileSync(pubFile, "utf8"));
    if (!parsed.ok) {
      ctx.err(`error: ${pubFile}: ${parsed.problem}`);
      return { ok: false };
    }
    return { ok: true, key: parsed.key };
  }
  const own = loadSigningKey(keyFile);
  return { ok: true, key: own.ok ? own.signer.publicKey : undefined };
}

/** The public key and the checkpoint log, as this user can read them; undefined after a message. */
export function resolveTrust(ctx: CliContext, command: Command, publicKeyOption: string | undefined): Omit<TrailTrust, "expectedTriggers"> | undefined {
  const key = resolvePublicKey(ctx, command, publicKeyOption);
  if (!key.ok) return undefined;
  const { logFile } = ctx.auditFiles(command);
  const log = readCheckpointLog(logFile);
  if (!log.ok && !log.unreadable) {
    ctx.err(`error: ${log.problem}`);
    return undefined;
  }
  if (!log.ok) ctx.err(`warning: ${log.problem}: checkpoints deleted from the database cannot be noticed; run this as the service's user to compare it`);
  return { publicKey: key.key, log: log.ok ? log.entries : undefined };
}

const publicKeyOption = () => new Option("--public-key <key>", "the service's public key: a PEM file or base64 SPKI (default: the .pub file beside AUDIT_SIGNING_KEY_FILE)");

/** audit verify, checkpoint, public-key, export, verify-export. */
export function addAuditCommands(program: Command, ctx: CliContext, run: Run): void {
  const audit = program.command("audit").description("the hash-chained, signed audit trail");
  audit
    .command("verify")
    .description("check the audit trail: every row against its hash chain, the signed checkpoints, the checkpoint log and the append-only triggers")
    .addOption(publicKeyOption())
    .action(run(async (opts: { publicKey?: string }, cmd: Command) => {
      const trust = resolveTrust(ctx, cmd, opts.publicKey);
      if (!trust) return 1;
      return ctx.withServices(cmd, (s) => {
        const check = s.audit.verifyTrail({ ...trust, expectedTriggers: expectedAuditTriggers() });
        if (!check.ok) {
          ctx.err(check.firstBrokenId > 0 ? `error: audit trail BROKEN at row id ${check.firstBrokenId}: ${check.problem}` : `error: audit trail BROKEN: ${check.problem}`);
          return 1;
        }
        const last = check.lastCheckpoint;
        ctx.out(`audit trail OK: ${check.rows} row(s), chain intact, ${check.checkpoints} signed checkpoint(s)${last ? `, the last for row ${last.rowId} at ${last.signedAt}` : ""}`);
        return 0;
      });
    }));

  audit
    .command("checkpoint")
    .description("sign the audit trail's head now with the service's key (run it as the service's user)")
    .action(run(async (_opts: unknown, cmd: Command) => {
      const { keyFile, logFile } = ctx.auditFiles(cmd);
      const key = loadSigningKey(keyFile);
      if (!key.ok) {
        ctx.err(`error: ${key.problem}`);
        if (key.unreadable) ctx.err(`only the service's user can sign: run it as that user, e.g. "sudo -u kakunin npm run admin -- audit checkpoint" (the service also signs every 5 minutes while rows arrive, and when it stops)`);
        return 1;
      }
      return ctx.withServices(cmd, (s) => {
        const written = s.audit.checkpoint({ signer: key.signer, logFile });
        if (!written) {
          ctx.out("nothing to sign: the trail is empty or its last row is signed already");
          return 0;
        }
        ctx.out(`checkpoint ${written.id} signed: row ${written.rowId} sha256 ${written.rowHash}, ${written.rows} row(s), at ${written.signedAt}`);
        return 0;
      });
    }));

  audit
    .command("public-key")
    .description("print the service's public key, for auditors and for keeping off the host")
    .addOption(new Option("--format <format>", "pem or base64 (SPKI, DER)").choices(["pem", "base64"]).default("pem"))
    .action(run(async (opts: { format: "pem" | "base64" }, cmd: Command) => {
      const key = resolvePublicKey(ctx, cmd, undefined);
      if (!key.ok) return 1;
      if (!key.key) {
        ctx.err(`error: there is no audit signing key at ${ctx.auditFiles(cmd).keyFile} (nor its .pub file): the service creates it at its first start`);
        return 1;
      }
      ctx.out(opts.format === "pem" ? publicKeyPem(key.key).trimEnd() : key.key.export({ type: "spki", format: "der" }).toString("base64"));
      return 0;
    }));

  audit
    .command("verify-export")
    .description("check an export (jsonl) offline against the service's public key")
    .argument("<file>", "an export written by \"audit export --format jsonl\"")
    .addOption(publicKeyOption().makeOptionMandatory())
    .addHelpText("after", `
Rows are recomputed to their own hashes, consecutive rows must link, and every checkpoint must
carry the service's signature. A whole-trail export is recomputed from row 1. docs/SECURITY.md
says what this proves for one orderer's export, and what it cannot.`)
    .action(run(async (file: string, opts: { publicKey: string }, cmd: Command) => {
      const key = resolvePublicKey(ctx, cmd, opts.publicKey);
      if (!key.ok) return 1;
      const read = ctx.readFile(file);
      if (!read.ok) return read.status;
      const check = verifyExport(read.bytes.toString("utf8"), key.key!);
      if (!check.ok) {
        ctx.err(`error: export FAILED verification: ${check.problem}`);
        return 1;
      }
      ctx.out(`export OK: ${check.rows} row(s), ${check.hashed} matching their hashes, ${check.links} link(s) between consecutive rows, ${check.unhashed} shown without hashes`);
      ctx.out(`  ${check.checkpoints} checkpoint(s) with good signatures, ${check.anchored} of them on a row of the export`);
      ctx.out(check.complete ? "  the whole trail from row 1: the chain was recomputed end to end" : "  a part of the trail: each row was checked on its own (see docs/SECURITY.md)");
      return 0;
    }));

  audit
    .command("export")
    .description("print audit rows to stdout: one orderer's own history (logins, verifications, views, prints and what admins did to its guarantees) or all")
    .option("--orderer <code>", "only this orderer's rows (its 6-digit local government code)", ordererCodeArgument)
    .option("--since <date>", "from this Tokyo calendar date, inclusive (YYYY-MM-DD)", dateArgument)
    .option("--until <date>", "up to this Tokyo calendar date, inclusive (YYYY-MM-DD)", dateArgument)
    .addOption(new Option("--format <format>", "csv (UTF-8 with BOM, for Excel) or jsonl (one JSON object per line)").choices(["csv", "jsonl"]).default("csv"))
    .addHelpText("after", `
Times are stored in UTC (occurred_at) and also given in Japan time (occurred_at_jst). The rows
keep their prev_hash and hash, and the signed checkpoints follow them, so that "audit verify-export"
can check the file offline. In one orderer's export every failed verification reads
key_verify_fail / failed, without the hashes that would tell the causes apart. Rows never hold
passwords, auth keys, session ids or CSRF tokens. The export itself is audited.`)
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
        let rows = 0;
        const counted = (function* () {
          for (const row of s.audit.exportRows(filter)) {
            rows++;
            yield row;
          }
        })();
        await writeLines(ctx.deps.stdout, formatExport(counted, opts.format, {
          scope: { orderer: opts.orderer ?? null, since: opts.since ?? null, until: opts.until ?? null }, checkpoints: s.audit.checkpoints(),
        }));
        s.audit.record({
          event: "audit_export", outcome: "ok", actorKind: "admin", actor: ctx.deps.actor, ordererCode: opts.orderer ?? null,
          detail: { since: opts.since ?? null, until: opts.until ?? null, format: opts.format, rows },
        });
        ctx.err(`${rows} audit row(s) exported`);
        return 0;
      });
    }));
}
