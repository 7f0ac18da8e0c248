import { z } from "zod";
import { isRealIsoDate, parseEraDate } from "../format/era-date.js";
import { hasForbiddenCharacters, normalizeContractNumber, normalizeDocumentText, normalizeText } from "../format/normalize.js";
import { parseYen } from "../format/yen.js";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import { formatRatio, parseRatio, type Ratio } from "./ratio.js";

/**
 * What an orderer records about a contract, as typed in the form or a ledger row: every field is
 * read forgivingly (full-width digits, 円 and commas, era dates, several ways of writing a ratio)
 * and checked on its own, so that every problem of a row is reported at once; the rules tying
 * fields together run on the fields that could be read.
 */

export const CONTRACT_FIELDS = [
  "reference", "projectName", "contractor", "contractAmount", "contractDate", "periodFrom", "periodTo",
  "advanceAmount", "interimAmount", "guaranteeRatio", "guaranteeNumbers",
] as const;
export type ContractField = (typeof CONTRACT_FIELDS)[number];

/** The form's labels, which are also the ledger's column headers. */
export const FIELD_LABELS: Readonly<Record<ContractField, string>> = {
  reference: "契約番号",
  projectName: "工事名",
  contractor: "受注者",
  contractAmount: "請負代金額",
  contractDate: "契約日",
  periodFrom: "工期開始",
  periodTo: "工期終了",
  advanceAmount: "前払金額",
  interimAmount: "中間前払金額",
  guaranteeRatio: "契約保証割合",
  guaranteeNumbers: "保証契約番号",
};

/** A contract as the orderer states it. */
export type ContractTerms = {
  reference: string;
  projectName: string;
  contractor: string;
  contractAmount: number;
  contractDate: string;
  periodFrom: string;
  periodTo: string;
  /** null: no 前払金, so no 前払金保証 is required. */
  advanceAmount: number | null;
  /** null: no 中間前払金. */
  interimAmount: number | null;
  /** null: no 契約保証 required; else the least share of the contract amount it must guarantee. */
  guaranteeRatio: Ratio | null;
  /** The 保証契約番号 the contract relies on, normalised, in the order given. */
  guaranteeNumbers: string[];
};

/** 1/10 of 請負代金額, the usual 契約保証; 3/10 after a 低入札価格調査. What a new form proposes. */
export const DEFAULT_GUARANTEE_RATIO: Ratio = { numerator: 1, denominator: 10 };
export const MAX_GUARANTEE_NUMBERS = 10;
/** From 平成 to the end of this century: a date outside is a typo (or Excel's day zero, 1900-01-00). */
export const DATE_RANGE = { from: "1989-01-08", to: "2099-12-31" } as const;

const REQUIRED = "入力してください";
const cell = z.string({ error: REQUIRED }).max(1000, { error: "長すぎます" });

const boundedText = (normalize: (raw: string) => string, max: number) =>
  cell.transform(normalize).pipe(
    z.string()
      .min(1, { error: REQUIRED })
      .max(max, { error: `${max}文字以内にしてください` })
      .refine((s) => !hasForbiddenCharacters(s), { error: "制御文字や見えない文字が含まれています" }),
  );

/** Yen as people write it: "50,000,000円", "５０００００００", "￥50,000,000". */
function readYen(raw: string): number | undefined {
  return parseYen(raw.normalize("NFKC").trim().replace(/^[¥\\]/u, ""));
}

const YEN_EXAMPLE = "例: 50000000、50,000,000円";

const requiredYen = cell.transform((raw, ctx) => {
  if (raw.trim() === "") return addIssue(ctx, REQUIRED);
  return readYen(raw) ?? addIssue(ctx, `「${raw}」は1円以上の金額として読めません（${YEN_EXAMPLE}）`);
});

/** Empty, or zero (some ledgers write 0 for "none"), is no amount at all. */
const optionalYen = cell.optional().transform((raw = "", ctx) => {
  const text = raw.normalize("NFKC").trim().replace(/^[¥\\]/u, "");
  if (text === "" || /^[0,]+\s*円?$/u.test(text)) return null;
  return readYen(raw) ?? addIssue(ctx, `「${raw}」は金額として読めません（${YEN_EXAMPLE}。なければ空欄）`);
});

const ISO_LIKE = /^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})$/;
const KANJI_DATE = /^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日$/;

/** "2026-04-01", "2026/4/1", "2026年4月1日" or "令和8年4月1日" -> "2026-04-01". */
export function parseLedgerDate(raw: string): string | undefined {
  const text = raw.normalize("NFKC").replace(/\s/gu, "");
  const match = ISO_LIKE.exec(text) ?? KANJI_DATE.exec(text);
  const iso = match ? `${match[1]}-${match[2]!.padStart(2, "0")}-${match[3]!.padStart(2, "0")}` : parseEraDate(text);
  return iso !== undefined && isRealIsoDate(iso) && iso >= DATE_RANGE.from && iso <= DATE_RANGE.to ? iso : undefined;
}

const date = cell.transform((raw, ctx) => {
  if (raw.trim() === "") return addIssue(ctx, REQUIRED);
  return parseLedgerDate(raw) ?? addIssue(ctx, `「${raw}」は日付として読めません（例: 2026-04-01、2026/4/1、令和8年4月1日）`);
});

const guaranteeRatio = cell.optional().transform((raw = "", ctx) => {
  if (raw.trim() === "") return null;
  return parseRatio(raw) ?? addIssue(ctx, `「${raw}」は割合として読めません（例: 1/10、3/10、10%、0.1。契約保証が不要なら空欄）`);
});

/** Numbers separated by 、 , or spaces (a line break in an Excel cell too). */
const guaranteeNumbers = cell.optional().transform((raw = "", ctx) => {
  const items = raw.normalize("NFKC").split(/[、,\s]+/u).filter((item) => item !== "");
  const numbers: string[] = [];
  for (const item of items) {
    const number = normalizeContractNumber(item);
    if (!number.ok) ctx.addIssue({ code: "custom", message: `「${item}」は保証契約番号（NNNNN-NNNNNN）として読めません` });
    else if (numbers.includes(number.value)) ctx.addIssue({ code: "custom", message: `${number.value} が2回書かれています` });
    else numbers.push(number.value);
  }
  if (numbers.length > MAX_GUARANTEE_NUMBERS) ctx.addIssue({ code: "custom", message: `${MAX_GUARANTEE_NUMBERS}件までにしてください` });
  return numbers;
});

function addIssue(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}

/** /contracts/new and /contracts/import are pages of the register; "." and ".." are not path segments a browser keeps. */
const RESERVED_REFERENCES = new Set(["new", "import", ".", ".."]);

const FIELD_SCHEMAS = {
  // The reference is a code the orderer types and searches for: folded like one. It names the
  // contract's page (/contracts/{契約番号}), so the words of the register's own pages and the
  // path segments "." and ".." are not references.
  reference: boundedText(normalizeText, 50).refine((s) => !RESERVED_REFERENCES.has(s.toLowerCase()), { error: "「new」「import」「.」「..」は契約番号に使えません" }),
  // Names are kept as written (NFC), like a certificate's; the checks fold them to compare.
  projectName: boundedText(normalizeDocumentText, 200),
  contractor: boundedText(normalizeDocumentText, 200),
  contractAmount: requiredYen,
  contractDate: date,
  periodFrom: date,
  periodTo: date,
  advanceAmount: optionalYen,
  interimAmount: optionalYen,
  guaranteeRatio,
  guaranteeNumbers,
} satisfies Record<ContractField, z.ZodType>;

/** Rules across fields, each checked when the fields it compares could be read. */
export function checkContractRules(t: Partial<Pick<ContractTerms, "contractDate" | "periodFrom" | "periodTo">>): Problem[] {
  const problems: Problem[] = [];
  const { contractDate, periodFrom, periodTo } = t;
  if (periodFrom !== undefined && periodTo !== undefined && periodTo < periodFrom) {
    problems.push({ field: "periodTo", message: `工期開始（${periodFrom}）より前です` });
  }
  if (contractDate !== undefined && periodTo !== undefined && contractDate > periodTo) {
    problems.push({ field: "contractDate", message: `工期終了（${periodTo}）より後です` });
  }
  return problems;
}

/** The 契約番号 as it is stored, if the raw text is one: for finding a row's duplicates even when
 * its other fields are wrong. */
export function readReference(raw: unknown): string | undefined {
  const result = FIELD_SCHEMAS.reference.safeParse(raw);
  return result.success ? result.data : undefined;
}

/**
 * A form's fields or a ledger row (strings keyed by ContractField; anything else is ignored) ->
 * the terms, or every problem keyed by field with a message in Japanese.
 */
export function parseContractTerms(input: Readonly<Record<string, unknown>>): Outcome<ContractTerms> {
  const problems: Problem[] = [];
  const values: Partial<Record<ContractField, unknown>> = {};
  for (const field of CONTRACT_FIELDS) {
    const result = FIELD_SCHEMAS[field].safeParse(input[field]);
    if (result.success) values[field] = result.data;
    else problems.push(...result.error.issues.map((issue) => ({ field, message: issue.message })));
  }
  problems.push(...checkContractRules(values as Partial<ContractTerms>));
  return problems.length > 0 ? refusal(...problems) : success(values as ContractTerms);
}

/** The terms as the form shows them for editing, and as the audit trail records them. */
export function toContractFields(t: ContractTerms): Record<ContractField, string> {
  return {
    reference: t.reference,
    projectName: t.projectName,
    contractor: t.contractor,
    contractAmount: String(t.contractAmount),
    contractDate: t.contractDate,
    periodFrom: t.periodFrom,
    periodTo: t.periodTo,
    advanceAmount: t.advanceAmount === null ? "" : String(t.advanceAmount),
    interimAmount: t.interimAmount === null ? "" : String(t.interimAmount),
    guaranteeRatio: t.guaranteeRatio === null ? "" : formatRatio(t.guaranteeRatio),
    guaranteeNumbers: t.guaranteeNumbers.join("、"),
  };
}

/** True when two statements of a contract say the same (a re-import of an unchanged row). */
export function sameTerms(a: ContractTerms, b: ContractTerms): boolean {
  const fa = toContractFields(a);
  const fb = toContractFields(b);
  return CONTRACT_FIELDS.every((field) => fa[field] === fb[field]);
}
