import cliProgress from "cli-progress";
import type { Command } from "commander";
import { formatEraDate, formatSlashDateTime, tokyoDate } from "../../src/format/era-date.js";
import { formatAuthKeyForPrint, normalizeContractNumber } from "../../src/format/normalize.js";
import { formatYen } from "../../src/format/yen.js";
import { versionLabel } from "../../src/guarantees/version-label.js";
import { parseChangeFile, parseIssuanceFile } from "../../src/guarantees/import-file.js";
import { PRODUCT_NAMES } from "../../src/guarantees/certificate.schema.js";
import { createNoticeRenderer, prepareNoticeDir, writeNotices, type NoticeInput } from "../../src/guarantees/notice.js";
import type { Problem } from "../../src/result.js";
import { formatTable, type CliContext, type Run } from "./context.js";

/** Files with more rows than this show a progress bar while their keys are hashed (on a terminal). */
const PROGRESS_BAR_THRESHOLD = 20;

const KIND_LABELS = { new: "新規", amendment: "変更", correction: "訂正" } as const;
const RETRACTION_LABELS = { corrected: "訂正により差替え", withdrawn: "変更取消" } as const;

/** issue, amend, correct, withdraw, cancel, rotate-key, show. */
export function addGuaranteeCommands(program: Command, ctx: CliContext, run: Run): void {
  /** File-level problems read best as "<file> is not valid JSON …"; row problems as "row N, field F: …". */
  const refuseFile = (file: string, problems: Problem[], what: string) => {
    if (problems.length === 1 && problems[0]!.field === "(file)" && problems[0]!.row === undefined) {
      ctx.err(`error: ${file} ${problems[0]!.message}; ${what}`);
      return 1 as const;
    }
    return ctx.refuse(problems, `${file} was refused (${problems.length} problem${problems.length === 1 ? "" : "s"}); ${what}:`);
  };

  /** Writes the notices after the commit; a failure here must not hide the keys already printed. */
  const writeNoticeFiles = (dir: string | undefined, inputs: NoticeInput[]): number => {
    if (dir === undefined) return 0;
    try {
      const files = writeNotices(dir, inputs, createNoticeRenderer(), tokyoDate(ctx.deps.clock.now()));
      ctx.err(`${files.length} notice(s) written to ${dir}`);
      return 0;
    } catch (error) {
      ctx.err(`error: the keys above are issued, but the notices could not be written (${(error as Error).message}); ` +
        "note the keys now, or make new ones with \"rotate-key --notices\"");
      return 1;
    }
  };

  const prepareNotices = (dir: string | undefined): { ok: true; dir?: string } | { ok: false } => {
    if (dir === undefined) return { ok: true };
    const prepared = prepareNoticeDir(dir);
    if (!prepared.ok) {
      ctx.refuse(prepared.problems);
      return { ok: false };
    }
    return { ok: true, dir: prepared.value };
  };

  program
    .command("issue")
    .description("issue the certificates of a file, all or none; prints each contract number and its auth key, once")
    .argument("<file>", "a JSON array of certificates, or a CSV with the same columns (nested ones as branch.name, orderer.code, …)")
    .option("--notices <dir>", "also write a print-ready 「認証キー」のお知らせ per certificate, <dir>/<contract number>.html")
    .option("--json", "print one JSON object per line: {\"contractNumber\": …, \"authKey\": …}")
    .addHelpText("after", `
Columns (JSON fields): contractNumber, product (advance|interim|contract), issuer (code),
  branch.name, branch.tel, branch.fax?, orderer.code, orderer.title, contractor.name,
  contractor.address, contractor.jvName?, projectName, projectLocation?, contractAmount,
  guaranteeAmount, depositBank (advance and interim only), contractDate, periodFrom,
  periodTo, guaranteeExpiry, issuedOn (dates YYYY-MM-DD). In CSV an empty cell is absent,
  amounts may have thousands separators, and rows are counted from 1 after the header.`)
    .action(run(async (file: string, opts: { notices?: string; json?: boolean }, cmd: Command) => {
      const read = ctx.readFile(file);
      if (!read.ok) return read.status;
      const rows = parseIssuanceFile(read.bytes, file);
      if (!rows.ok) return refuseFile(file, rows.problems, "nothing was issued");
      const notices = prepareNotices(opts.notices);
      if (!notices.ok) return 1;

      return ctx.withServices(cmd, async (s) => {
        const bar = ctx.deps.stderr.isTTY === true && rows.value.length > PROGRESS_BAR_THRESHOLD
          ? new cliProgress.SingleBar({
            stream: ctx.deps.stderr as NodeJS.WritableStream, format: "hashing keys [{bar}] {value}/{total}", hideCursor: true, clearOnComplete: true,
          }, cliProgress.Presets.shades_classic)
          : undefined;
        let started = false;
        const issued = await s.issuance.issue(rows.value, {
          actor: ctx.deps.actor,
          // Twice the pool (npm run admin sizes it to the cores), as the service does for verifications.
          hashesInFlight: 2 * ctx.config().poolThreads,
          onProgress: (done, total) => {
            if (!bar) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        }).finally(() => { if (started) bar?.stop(); });
        if (!issued.ok) return refuseFile(file, issued.problems, "nothing was issued");

        if (opts.json) {
          for (const g of issued.value) ctx.out(JSON.stringify({ contractNumber: g.contractNumber, authKey: g.authKey }));
        } else {
          formatTable(["contract number", "product", "auth key"],
            issued.value.map((g) => [g.contractNumber, PRODUCT_NAMES[g.product], formatAuthKeyForPrint(g.authKey)])).forEach((l) => ctx.out(l));
        }
        ctx.err(`${issued.value.length} certificate(s) issued. The keys are shown only now: only their hashes are stored.`);
        return writeNoticeFiles(notices.dir, issued.value);
      });
    }));

  for (const kind of ["amendment", "correction"] as const) {
    program
      .command(kind === "amendment" ? "amend" : "correct")
      .description(kind === "amendment"
        ? "issue a 変更 (変更-1, 変更-2, …) of a guarantee with the changed fields; the key stays"
        : "issue a 訂正 that replaces the current version, which leaves the default history; the key stays")
      .argument("<contract-no>", "the guarantee's contract number, NNNNN-NNNNNN")
      .argument("<file>", 'a JSON object of the fields that change, e.g. {"guaranteeAmount": 25000000, "contractor": {"address": "…"}}')
      .action(run(async (contractNumber: string, file: string, _opts: unknown, cmd: Command) => {
        const read = ctx.readFile(file);
        if (!read.ok) return read.status;
        const changes = parseChangeFile(read.bytes);
        if (!changes.ok) return refuseFile(file, changes.problems, "nothing was changed");
        return ctx.withServices(cmd, (s) => {
          const version = s.guarantees.change(contractNumber, kind, changes.value, ctx.deps.actor);
          if (!version.ok) return ctx.refuse(version.problems);
          const number = shownNumber(contractNumber);
          ctx.out(kind === "amendment"
            ? `${number}: ${versionLabel(version.value)} issued as version ${version.value.sequence}`
            : `${number}: 訂正 of ${versionLabel(version.value)} issued as version ${version.value.sequence}; ` +
              `the version it replaces is no longer listed in the history`);
          return 0;
        });
      }));
  }

  program
    .command("withdraw")
    .description("変更取消: withdraw the current 変更 so the version before it is in force again")
    .argument("<contract-no>", "the guarantee's contract number")
    .action(run(async (contractNumber: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const current = s.guarantees.withdraw(contractNumber, ctx.deps.actor);
        if (!current.ok) return ctx.refuse(current.problems);
        const withdrawn = s.guarantees.listVersions(current.value.guaranteeId).filter((v) => v.retraction?.cause === "withdrawn").at(-1)!;
        ctx.out(`${shownNumber(contractNumber)}: ${versionLabel(withdrawn)} (version ${withdrawn.sequence}) withdrawn; ` +
          `${versionLabel(current.value)} (version ${current.value.sequence}) is in force again`);
        return 0;
      })));

  program
    .command("cancel")
    .description("取消: cancel a guarantee; officers see it as cancelled with the date and reason")
    .argument("<contract-no>", "the guarantee's contract number")
    .requiredOption("--reason <text>", "why, shown to officers, e.g. 契約解除のため")
    .action(run(async (contractNumber: string, opts: { reason: string }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const cancelled = s.guarantees.cancel(contractNumber, opts.reason, ctx.deps.actor);
        if (!cancelled.ok) return ctx.refuse(cancelled.problems);
        ctx.out(`${cancelled.value.contractNumber} cancelled (取消): ${cancelled.value.cancelReason}`);
        return 0;
      })));

  program
    .command("rotate-key")
    .description("give a guarantee a new auth key, printed once; the old key stops working at once")
    .argument("<contract-no>", "the guarantee's contract number")
    .option("--notices <dir>", "also write a new 「認証キー」のお知らせ, <dir>/<contract number>.html")
    .option("--json", "print {\"contractNumber\": …, \"authKey\": …} on one line")
    .action(run(async (contractNumber: string, opts: { notices?: string; json?: boolean }, cmd: Command) => {
      const notices = prepareNotices(opts.notices);
      if (!notices.ok) return 1;
      return ctx.withServices(cmd, async (s) => {
        const rotated = await s.guarantees.rotateKey(contractNumber, ctx.deps.actor);
        if (!rotated.ok) return ctx.refuse(rotated.problems);
        const { contractNumber: number, authKey } = rotated.value;
        if (opts.json) ctx.out(JSON.stringify({ contractNumber: number, authKey }));
        else ctx.out(`${number}  ${formatAuthKeyForPrint(authKey)}`);
        ctx.err("The new key is shown only now; the old key no longer works.");
        const g = s.guarantees.findByContractNumber(number)!;
        return writeNoticeFiles(notices.dir, [{ contractNumber: number, authKey, product: g.product, content: s.guarantees.currentVersion(g.id)!.content }]);
      });
    }));

  program
    .command("show")
    .description("show a guarantee's status and every version (never its key)")
    .argument("<contract-no>", "the guarantee's contract number")
    .action(run(async (contractNumber: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const number = normalizeContractNumber(contractNumber);
        if (!number.ok) return ctx.refuse([{ field: "contractNumber", message: `must be NNNNN-NNNNNN (got "${contractNumber}")` }]);
        const guarantee = s.guarantees.findByContractNumber(number.value);
        if (!guarantee) return ctx.refuse([{ field: "contractNumber", message: `no guarantee ${number.value} has been issued` }]);
        const versions = s.guarantees.listVersions(guarantee.id);
        const current = s.guarantees.currentVersion(guarantee.id)!;
        const c = current.content;
        const today = tokyoDate(ctx.deps.clock.now());
        const status = guarantee.status === "cancelled"
          ? `取消 (cancelled ${formatSlashDateTime(guarantee.cancelledAt!)}: ${guarantee.cancelReason})`
          : c.guaranteeExpiry < today ? `期限切れ (expired ${formatEraDate(c.guaranteeExpiry)})` : "有効 (valid)";
        ctx.out(`${guarantee.contractNumber}  ${PRODUCT_NAMES[guarantee.product]}  ${status}`);
        ctx.out(`orderer:    ${c.orderer.code} ${c.orderer.name}`);
        ctx.out(`issuer:     ${c.issuer.code} ${c.issuer.name} (${c.branch.name})`);
        ctx.out(`contractor: ${c.contractor.name}${c.contractor.jvName ? ` (${c.contractor.jvName})` : ""}`);
        ctx.out(`project:    ${c.projectName}`);
        ctx.out(`amounts:    contract ${formatYen(c.contractAmount)}, guarantee ${formatYen(c.guaranteeAmount)}`);
        ctx.out(`expiry:     ${formatEraDate(c.guaranteeExpiry)} (${c.guaranteeExpiry})`);
        ctx.out(`in force:   version ${current.sequence} (${versionLabel(current)})`);
        ctx.out();
        formatTable(["No.", "label", "kind", "reached platform", "listed", "retraction"], versions.map((v) => [
          String(v.sequence),
          versionLabel(v),
          KIND_LABELS[v.kind],
          formatSlashDateTime(v.reachedPlatformAt),
          v.retraction ? "no" : "yes",
          v.retraction ? `${RETRACTION_LABELS[v.retraction.cause]} ${formatSlashDateTime(v.retraction.at)}` : "",
        ])).forEach((l) => ctx.out(l));
        return 0;
      })));
}

/** The contract number as stored, for messages after the service accepted what was typed. */
function shownNumber(raw: string): string {
  const number = normalizeContractNumber(raw);
  return number.ok ? number.value : raw;
}
