import type { AuditActorKind } from "../audit/audit.repository.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { tokyoDate } from "../format/era-date.js";
import { normalizeText } from "../format/normalize.js";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import { foldForSearch } from "../guarantees/guarantee.repository.js";
import { CONTRACT_STATE_LABELS, DEFAULT_CHECK_SETTINGS, evaluateContract, type CheckSettings, type ContractEvaluation } from "./checks.js";
import type { Contract, ContractRepository, ContractWithLinks } from "./contract.repository.js";
import { CONTRACT_FIELDS, FIELD_LABELS, parseContractTerms, readReference, sameTerms, toContractFields, type ContractField, type ContractTerms } from "./contract.schema.js";
import { decodeLedger, encodeLedger, FILE_FIELD, MAX_LEDGER_PROBLEMS, readLedgerRows, STATE_COLUMN, type LedgerEncoding } from "./ledger-file.js";
import { formatRatioForSpreadsheet } from "./ratio.js";

/** Who registers or changes contracts: an officer on the web, or an admin at the command line,
 * always for one orderer. */
export type ContractActor = {
  kind: Extract<AuditActorKind, "officer" | "admin" | "api-client">;
  login: string;
  officerId: number | null;
  ordererId: number;
  ordererCode: string;
  clientAddress: string | null;
};

export type ContractServiceDeps = {
  contracts: ContractRepository;
  audit: Pick<AuditService, "appendInTransaction">;
  clock: Clock;
  tx: Transactions;
  /** The orderer's ceilings on advances; the defaults (4/10, 2/10) when not given. */
  checkSettings?: (ordererId: number) => CheckSettings;
};

/** A contract of the register with its 照合. */
export type RegisterEntry = ContractWithLinks & { evaluation: ContractEvaluation };

export type ListOptions = {
  /** Text to find in the 契約番号 or the 工事名 (NFKC, case-insensitive). */
  query?: string;
  /** Only contracts whose state is not 適合. */
  attentionOnly?: boolean;
  /** The `next` of the previous page. */
  after?: string | null;
  limit?: number;
};

export type RegisterPage = { entries: RegisterEntry[]; next: string | null };

export type ImportSummary = { encoding: LedgerEncoding; created: string[]; changed: string[]; unchanged: number };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
// Pages read while looking for contracts that need attention: bigger than a page, since most
// contracts of a healthy register are 適合 and are skipped.
const SCAN_BATCH = 200;

/** What the audit trail records of a contract: its terms as the form would show them. */
const snapshot = (t: ContractTerms) => toContractFields(t);

export function createContractService(deps: ContractServiceDeps) {
  const { contracts, audit, clock, tx } = deps;
  // One write transaction, begun IMMEDIATE (it reads, then writes): committed if `work` returns, rolled back if it throws.
  const transaction = <T>(work: () => T): T => tx.transaction(work).immediate();
  const settingsFor = deps.checkSettings ?? (() => DEFAULT_CHECK_SETTINGS);

  const evaluate = (entry: ContractWithLinks, today: string, settings: CheckSettings): RegisterEntry => ({
    ...entry, evaluation: evaluateContract(entry.contract, entry.links, settings, today),
  });
  const today = () => tokyoDate(clock.now());

  const record = (actor: ContractActor, event: "contract_add" | "contract_change" | "contract_import" | "contract_export", detail: Record<string, unknown>, outcome = "ok") =>
    audit.appendInTransaction({
      event, outcome, actorKind: actor.kind, actor: actor.login, officerId: actor.officerId, ordererCode: actor.ordererCode,
      clientAddress: actor.clientAddress, detail,
    });

  /** Inside the transaction: registers or changes one contract; "unchanged" writes nothing. */
  function apply(actor: ContractActor, existing: Contract | undefined, terms: ContractTerms, source: "form" | "ledger", at: string) {
    if (!existing) {
      if (contracts.insert(actor.ordererId, terms, at) === undefined) return "taken" as const;
      record(actor, "contract_add", { source, reference: terms.reference, after: snapshot(terms) });
      return "created" as const;
    }
    if (sameTerms(existing, terms)) return "unchanged" as const;
    if (!contracts.update(existing.id, terms, at)) return "taken" as const;
    // Both sides in full, so the trail alone shows every 変更契約 without reading earlier rows.
    record(actor, "contract_change", { source, reference: terms.reference, revision: existing.revision + 1, before: snapshot(existing), after: snapshot(terms) });
    return "changed" as const;
  }

  /** The register as ledger rows (header, then each contract with its 状態), encoded. */
  function readLedger(ordererId: number, encoding: LedgerEncoding): { file: Outcome<Uint8Array>; rows: number } {
    const rows: string[][] = [[...CONTRACT_FIELDS.map((field) => FIELD_LABELS[field]), STATE_COLUMN]];
    const settings = settingsFor(ordererId);
    const day = today();
    let after = "";
    for (;;) {
      const entries = contracts.listPage({ ordererId, after, query: null, limit: SCAN_BATCH });
      for (const entry of entries) {
        const fields = toContractFields(entry.contract);
        const ratio = entry.contract.guaranteeRatio;
        fields.guaranteeRatio = ratio === null ? "" : formatRatioForSpreadsheet(ratio);
        rows.push([...CONTRACT_FIELDS.map((field) => fields[field]), CONTRACT_STATE_LABELS[evaluate(entry, day, settings).evaluation.state]]);
      }
      if (entries.length < SCAN_BATCH) break;
      after = entries.at(-1)!.contract.reference;
    }
    return { file: encodeLedger(rows, encoding), rows: rows.length - 1 };
  }

  return {
    /**
     * A ledger file (CSV, UTF-8 or Shift_JIS) -> its contracts registered, or changed where the
     * orderer already has the 契約番号 (a 変更契約), all in one transaction; contracts absent from
     * the file are kept. Any problem in any row refuses the whole file, every problem listed.
     */
    importLedger(actor: ContractActor, bytes: Uint8Array): Outcome<ImportSummary> {
      const decoded = decodeLedger(bytes);
      if (!decoded.ok) return decoded;
      const rows = readLedgerRows(decoded.value.text);
      if (!rows.ok) return rows;

      const problems: Problem[] = [];
      const parsed: ContractTerms[] = [];
      const firstRowOf = new Map<string, number>();
      for (const { row, values } of rows.value) {
        const terms = parseContractTerms(values);
        if (terms.ok) parsed.push(terms.value);
        else problems.push(...terms.problems.map((p) => ({ row, field: FIELD_LABELS[p.field as ContractField], message: p.message })));
        const reference = readReference(values.reference);
        if (reference === undefined) continue;
        const first = firstRowOf.get(reference);
        if (first !== undefined) problems.push({ row, field: FIELD_LABELS.reference, message: `${first}行目と同じ契約番号です` });
        else firstRowOf.set(reference, row);
      }
      if (problems.length > MAX_LEDGER_PROBLEMS) {
        const rest = problems.length - MAX_LEDGER_PROBLEMS;
        return refusal(...problems.slice(0, MAX_LEDGER_PROBLEMS), { field: FILE_FIELD, message: `ほかに${rest}件の問題があります` });
      }
      if (problems.length > 0) return refusal(...problems);

      return transaction(() => {
        const at = clock.now().toISOString();
        const summary: ImportSummary = { encoding: decoded.value.encoding, created: [], changed: [], unchanged: 0 };
        for (const terms of parsed) {
          const outcome = apply(actor, contracts.find(actor.ordererId, terms.reference)?.contract, terms, "ledger", at);
          if (outcome === "created") summary.created.push(terms.reference);
          else if (outcome === "changed") summary.changed.push(terms.reference);
          else if (outcome === "unchanged") summary.unchanged++;
          // "taken" cannot happen: each reference is looked up under the write lock and appears once.
          else throw new Error(`contract ${terms.reference} could not be written`);
        }
        record(actor, "contract_import", {
          encoding: summary.encoding, rows: parsed.length, created: summary.created.length, changed: summary.changed.length, unchanged: summary.unchanged,
        });
        return success(summary);
      });
    },

    /**
     * The form: registers a new contract (`current` null) or changes the one the form was opened
     * on (its reference and revision as shown; the reference itself may be corrected). Problems
     * are keyed by field (reference, contractAmount, …; "form" when someone changed it meanwhile).
     */
    save(actor: ContractActor, form: Readonly<Record<string, unknown>>, current: { reference: string; revision: number } | null): Outcome<Contract> {
      const terms = parseContractTerms(form);
      if (!terms.ok) return terms;
      return transaction((): Outcome<Contract> => {
        const existing = current === null ? undefined : contracts.find(actor.ordererId, current.reference)?.contract;
        if (current !== null && !existing) return refusal({ field: "form", message: "この契約は登録されていません" });
        if (existing && existing.revision !== current!.revision) {
          return refusal({ field: "form", message: "この契約は、開いた後でほかの人が変更しました。開き直してから変更してください" });
        }
        const outcome = apply(actor, existing, terms.value, "form", clock.now().toISOString());
        if (outcome === "taken") return refusal({ field: "reference", message: "この契約番号の契約はすでに登録されています" });
        return success(contracts.find(actor.ordererId, terms.value.reference)!.contract);
      });
    },

    /** The register in 契約番号 order, a page at a time (keyset: pass `next` back as `after`). */
    list(ordererId: number, options: ListOptions = {}): RegisterPage {
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
      const folded = foldForSearch(options.query ?? "").trim();
      const query = folded === "" ? null : folded;
      const settings = settingsFor(ordererId);
      const day = today();
      const batch = options.attentionOnly ? SCAN_BATCH : limit + 1;
      // Read one more than the page to know whether there is a next one; the state is computed,
      // so "needs attention" reads on until it has found that many or the register ends.
      const found: RegisterEntry[] = [];
      let after = options.after ?? "";
      for (;;) {
        const entries = contracts.listPage({ ordererId, after, query, limit: batch });
        for (const entry of entries) {
          const evaluated = evaluate(entry, day, settings);
          if (!options.attentionOnly || evaluated.evaluation.state !== "ok") found.push(evaluated);
          if (found.length > limit) break;
        }
        if (found.length > limit || entries.length < batch) break;
        after = entries.at(-1)!.contract.reference;
      }
      const page = found.slice(0, limit);
      return { entries: page, next: found.length > limit ? page.at(-1)!.contract.reference : null };
    },

    /** One contract of the orderer with its guarantees (held, or 未確認) and checks; undefined
     * when the orderer has none under this reference. */
    find(ordererId: number, reference: string): RegisterEntry | undefined {
      const entry = contracts.find(ordererId, normalizeText(reference));
      return entry && evaluate(entry, today(), settingsFor(ordererId));
    },

    /** The orderer's contracts that rely on this 保証契約番号, each with its 照合 (the guarantee's
     * summary page shows them). */
    listRelyingOn(ordererId: number, contractNumber: string): RegisterEntry[] {
      const settings = settingsFor(ordererId);
      const day = today();
      return contracts.listRelyingOn(ordererId, contractNumber).map((entry) => evaluate(entry, day, settings));
    },

    /**
     * The register as a ledger for Excel: the import's columns (so it can be edited and imported
     * again) and 状態, CRLF; UTF-8 with a BOM, or Shift_JIS (refused, naming the cells, when a
     * name holds a character Shift_JIS lacks). The register leaves the service: audited, with the
     * rows it held, in the transaction that read them.
     */
    exportLedger(actor: ContractActor, encoding: LedgerEncoding): Outcome<Uint8Array> {
      return transaction(() => {
        const exported = readLedger(actor.ordererId, encoding);
        record(actor, "contract_export", { encoding, rows: exported.rows }, exported.file.ok ? "ok" : "refused");
        return exported.file;
      });
    },
  };

}

export type ContractService = ReturnType<typeof createContractService>;
