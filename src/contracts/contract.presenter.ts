import { formatEraDate } from "../format/era-date.js";
import { formatYen } from "../format/yen.js";
import { guaranteeHref } from "../guarantees/certificate.presenter.js";
import { PRODUCT_NAMES } from "../guarantees/certificate.schema.js";
import type { RelyingContractView } from "../holdings/holding.presenter.js";
import type { Problem } from "../result.js";
import { CONTRACT_STATE_LABELS, type Check, type ContractState, type Figure, type LinkReview, type RuleResult } from "./checks.js";
import type { Contract } from "./contract.repository.js";
import { CONTRACT_FIELDS, FIELD_LABELS, type ContractField } from "./contract.schema.js";
import type { RegisterEntry, RegisterPage } from "./contract.service.js";
import { formatRatio } from "./ratio.js";

/** The seam for tests and the browser: data-state on each register row. */
const STATE_SEAM: Readonly<Record<ContractState, string>> = {
  ok: "ok", attention: "attention", missing: "missing", cancelled: "cancelled", expired: "expired", changed: "changed",
};

export const RESULT_LABELS: Readonly<Record<RuleResult, string>> = { pass: "適合", fail: "不適合", warn: "要確認（警告）", na: "対象外" };

const GUARANTEE_STATE_LABELS = { valid: "有効", cancelled: "取消", expired: "期限切れ" } as const;

/** The URL of a contract: its reference is the orderer's own text, so it is encoded whole. */
export const contractHref = (reference: string) => `/contracts/${encodeURIComponent(reference)}`;

function formatFigure(figure: Figure | null | undefined): string {
  if (!figure) return "—";
  switch (figure.kind) {
    case "yen": return formatYen(figure.value);
    case "date": return formatEraDate(figure.value);
    case "status": return GUARANTEE_STATE_LABELS[figure.value];
    case "text": return figure.value;
  }
}

export type CheckRow = {
  id: string; rule: string; source: string; contractFigure: string; certificateFigure: string; bound?: string;
  result: RuleResult; resultLabel: string;
};

function toCheckRow(check: Check): CheckRow {
  return {
    id: check.id, rule: check.rule, source: check.source,
    contractFigure: formatFigure(check.contract), certificateFigure: formatFigure(check.certificate),
    ...(check.bound ? { bound: formatFigure(check.bound) } : {}),
    result: check.result, resultLabel: RESULT_LABELS[check.result],
  };
}

const stateOf = (state: ContractState) => ({ state: STATE_SEAM[state], label: CONTRACT_STATE_LABELS[state] });

export type RegisterRow = {
  reference: string; href: string; projectName: string; contractor: string; contractAmount: string; periodTo: string;
  guarantees: string; state: string; stateLabel: string;
};

function toRegisterRow({ contract, evaluation }: RegisterEntry): RegisterRow {
  const held = evaluation.links.filter((link) => link.held).length;
  const total = evaluation.links.length;
  return {
    reference: contract.reference,
    href: contractHref(contract.reference),
    projectName: contract.projectName,
    contractor: contract.contractor,
    contractAmount: formatYen(contract.contractAmount),
    periodTo: formatEraDate(contract.periodTo),
    guarantees: total === 0 ? "なし" : held === total ? `${total}件` : `${total}件（うち未確認 ${total - held}件）`,
    state: STATE_SEAM[evaluation.state],
    stateLabel: CONTRACT_STATE_LABELS[evaluation.state],
  };
}

export function toRegisterView(page: RegisterPage, options: { ordererName: string; q: string; attentionOnly: boolean; after: string }) {
  const filtered = options.q.trim() !== "" || options.attentionOnly;
  const query = (after: string | null) => {
    const params = new URLSearchParams();
    if (options.q !== "") params.set("q", options.q);
    if (options.attentionOnly) params.set("attention", "1");
    if (after) params.set("after", after);
    const text = params.toString();
    return `/contracts${text === "" ? "" : `?${text}`}`;
  };
  return {
    title: "契約台帳",
    ordererName: options.ordererName,
    q: options.q,
    attentionOnly: options.attentionOnly,
    rows: page.entries.map(toRegisterRow),
    resultText: `${page.entries.length}件を表示${filtered ? "（絞り込み中）" : ""}`,
    emptyText: filtered
      ? "条件に一致する契約はありません。「要確認のみ」を外すか、検索する語句を変えてお試しください。"
      : "まだ契約は登録されていません。「契約を登録」から入力するか、契約台帳（CSV）を取り込んでください。",
    ...(options.after !== "" ? { firstHref: query(null) } : {}),
    ...(page.next !== null ? { nextHref: query(page.next) } : {}),
  };
}

/** One line of the error summary: the field it links to (its id on the page) and the message. */
export type ErrorItem = { field: string; message: string };

/** The form's problems, each naming its field by label; "form" (someone else changed the
 * contract) links to the form as a whole. */
function toFormErrors(problems: readonly Problem[]): ErrorItem[] {
  return problems.map((p) => {
    const field = (CONTRACT_FIELDS as readonly string[]).includes(p.field) ? (p.field as ContractField) : undefined;
    return field ? { field, message: `${FIELD_LABELS[field]}: ${p.message}` } : { field: "contract-form", message: p.message };
  });
}

function toLinkView(link: LinkReview) {
  if (!link.held) {
    return { contractNumber: link.contractNumber, held: false, note: "未確認：この保証契約番号の保証は、まだ貴団体で認証キーによる確認をしていません。" };
  }
  const g = link.guarantee;
  return {
    contractNumber: link.contractNumber,
    held: true,
    href: guaranteeHref(link.contractNumber),
    productName: PRODUCT_NAMES[g.product],
    guaranteeAmount: formatYen(g.content.guaranteeAmount),
    guaranteeExpiry: formatEraDate(g.content.guaranteeExpiry),
    statusLabel: GUARANTEE_STATE_LABELS[link.state],
    changed: link.changed,
    checks: link.checks.map(toCheckRow),
  };
}

const optionalYen = (amount: number | null) => (amount === null ? "なし" : formatYen(amount));

export function toContractView(entry: RegisterEntry, options: { flash?: string }) {
  const { contract, evaluation } = entry;
  const s = stateOf(evaluation.state);
  return {
    title: `契約 ${contract.reference}`,
    reference: contract.reference,
    editHref: `${contractHref(contract.reference)}/edit`,
    flash: options.flash,
    state: s.state,
    stateLabel: s.label,
    rows: [
      { label: FIELD_LABELS.reference, value: contract.reference },
      { label: FIELD_LABELS.projectName, value: contract.projectName },
      { label: FIELD_LABELS.contractor, value: contract.contractor },
      { label: FIELD_LABELS.contractAmount, value: formatYen(contract.contractAmount) },
      { label: FIELD_LABELS.contractDate, value: formatEraDate(contract.contractDate) },
      { label: "工期", value: `${formatEraDate(contract.periodFrom)} 〜 ${formatEraDate(contract.periodTo)}` },
      { label: FIELD_LABELS.advanceAmount, value: optionalYen(contract.advanceAmount) },
      { label: FIELD_LABELS.interimAmount, value: optionalYen(contract.interimAmount) },
      { label: FIELD_LABELS.guaranteeRatio, value: contract.guaranteeRatio === null ? "契約保証なし" : formatRatio(contract.guaranteeRatio) },
      { label: "変更回数", value: contract.revision === 1 ? "なし" : `${contract.revision - 1}回` },
    ],
    missing: evaluation.missing.map((product) => `${PRODUCT_NAMES[product]}が未提出です（貴団体で確認済みの保証にありません）。`),
    contractChecks: evaluation.contractChecks.map(toCheckRow),
    links: evaluation.links.map(toLinkView),
  };
}

/** The form's fields as typed (or as stored, for a 変更契約), and its problems by field. */
export function toContractFormView(options: {
  values: Partial<Record<ContractField, string>>; problems?: readonly Problem[]; current?: Pick<Contract, "reference" | "revision">;
}) {
  const problems = options.problems ?? [];
  const errors = toFormErrors(problems);
  const fields = CONTRACT_FIELDS.map((name) => ({
    name,
    label: FIELD_LABELS[name],
    value: options.values[name] ?? "",
    hint: FIELD_HINTS[name],
    error: problems.filter((p) => p.field === name).map((p) => p.message).join(" "),
  }));
  const current = options.current;
  return {
    title: current ? `契約の変更（${current.reference}）` : "契約の登録",
    action: current ? contractHref(current.reference) : "/contracts",
    cancelHref: current ? contractHref(current.reference) : "/contracts",
    revision: current?.revision,
    submitLabel: current ? "変更を保存する" : "登録する",
    errors,
    fields,
  };
}

const FIELD_HINTS: Readonly<Record<ContractField, string>> = {
  reference: "貴団体の契約番号（例: R8-土木-001）",
  projectName: "契約書に記載の工事名",
  contractor: "契約の相手方（共同企業体の場合は企業体名）",
  contractAmount: "円（例: 50000000、50,000,000円、全角数字も可）",
  contractDate: "例: 2026-04-01、2026/4/1、令和8年4月1日",
  periodFrom: "例: 2026-04-01、2026/4/1、令和8年4月1日",
  periodTo: "例: 2026-04-01、2026/4/1、令和8年4月1日",
  advanceAmount: "円。前払金がなければ空欄",
  interimAmount: "円。中間前払金がなければ空欄",
  guaranteeRatio: "1/10、3/10、10% など。契約保証が不要なら空欄",
  guaranteeNumbers: "電子保証の保証契約番号（12345-123456）。複数は「、」で区切る",
};

/** The 照合 of each contract that relies on one guarantee, for the guarantee's summary page. */
export function toRelyingContractViews(entries: readonly RegisterEntry[], contractNumber: string): RelyingContractView[] {
  return entries.map(({ contract, evaluation }) => {
    const link = evaluation.links.find((l) => l.contractNumber === contractNumber);
    const checks = link?.held ? link.checks : [];
    const notPassing = checks.filter((c) => c.result === "fail" || c.result === "warn");
    const s = stateOf(evaluation.state);
    return {
      reference: contract.reference,
      href: contractHref(contract.reference),
      projectName: contract.projectName,
      state: s.state,
      stateLabel: s.label,
      findings: notPassing.length === 0 ? ["この保証の照合はすべて適合です。"] : notPassing.map((c) => `${RESULT_LABELS[c.result]}: ${c.rule}`),
    };
  });
}
