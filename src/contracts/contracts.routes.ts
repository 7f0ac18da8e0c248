import type { Request, RequestHandler, Response } from "express";
import { tokyoDate } from "../format/era-date.js";
import type { Clock } from "../clock.js";
import { clientAddress } from "../http/client-address.js";
import { readForm } from "../http/forms.js";
import { HttpError } from "../http/http-error.js";
import type { Upload } from "../http/multipart-body.js";
import type { Problem } from "../result.js";
import { contractHref, toContractFormView, toContractView, toRegisterView, type ErrorItem } from "./contract.presenter.js";
import { toContractFields, type ContractField } from "./contract.schema.js";
import type { ContractActor, ContractService } from "./contract.service.js";
import { describeLedgerProblem, type LedgerEncoding } from "./ledger-file.js";

/** The field of the import form that holds the ledger file. */
export const LEDGER_FIELD = "ledger";
export const LEDGER_IMPORT_PATH = "/contracts/import";

const MAX_QUERY_LENGTH = 100;
const FORM_LIMITS: Record<ContractField, number> = {
  reference: 100, projectName: 400, contractor: 400, contractAmount: 64, contractDate: 32, periodFrom: 32, periodTo: 32,
  advanceAmount: 64, interimAmount: 64, guaranteeRatio: 32, guaranteeNumbers: 400,
};
const REVISION = /^[1-9][0-9]{0,8}$/;
const ENCODINGS: Readonly<Record<string, LedgerEncoding>> = { "utf-8": "utf-8", shift_jis: "shift_jis" };
const CONTENT_TYPES: Readonly<Record<LedgerEncoding, string>> = { "utf-8": "text/csv; charset=utf-8", shift_jis: "text/csv; charset=Shift_JIS" };

/** A single query-string value, or "" for an absent, repeated or bracketed one. */
function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === "string" ? value.slice(0, MAX_QUERY_LENGTH) : "";
}

function actorOf(req: Request): ContractActor {
  const officer = req.user!;
  return { kind: "officer", login: officer.login, officerId: officer.id, ordererId: officer.ordererId, ordererCode: officer.ordererCode, clientAddress: clientAddress(req) };
}

/** The flash a redirect left for the next page, taken once. */
function takeFlash(req: Request): string | undefined {
  const flash = req.session.flash;
  if (flash) delete req.session.flash;
  return flash;
}

/**
 * The orderer's contract register (契約台帳) and its 照合. Every contract is looked up within the
 * officer's own orderer: another orderer's 契約番号 falls through to the app's one 404 page, like
 * a number nobody registered.
 */
export function createContractHandlers(deps: { contracts: ContractService; clock: Clock }) {
  const { contracts, clock } = deps;

  const renderRegister = (req: Request, res: Response, status: number, extra: { errors?: ErrorItem[]; flash?: string }) => {
    const q = queryText(req, "q");
    const attentionOnly = queryText(req, "attention") === "1";
    const after = queryText(req, "after");
    const page = contracts.list(req.user!.ordererId, { query: q, attentionOnly, after });
    res.status(status).render("contracts/register", {
      ...toRegisterView(page, { ordererName: req.user!.ordererName, q, attentionOnly, after }),
      ...extra,
    });
  };

  /** GET /contracts: 契約台帳, one row per contract with its state; ?attention=1, ?q=, ?after= (the next page). */
  const register: RequestHandler = (req, res) => renderRegister(req, res, 200, { flash: takeFlash(req) });

  /** GET /contracts/new: the form for a new contract, proposing the usual 1/10 契約保証. */
  const newForm: RequestHandler = (_req, res) => {
    res.render("contracts/form", toContractFormView({ values: { guaranteeRatio: "1/10" } }));
  };

  /** POST /contracts: registers the contract and 303s to it; the form again with its problems (400). */
  const create: RequestHandler = (req, res) => {
    const form = readForm(req, FORM_LIMITS);
    const saved = contracts.save(actorOf(req), form, null);
    if (!saved.ok) return res.status(400).render("contracts/form", toContractFormView({ values: form, problems: saved.problems }));
    req.session.flash = `契約 ${saved.value.reference} を登録しました。`;
    res.redirect(303, contractHref(saved.value.reference));
  };

  /** GET /contracts/:reference: the contract, its guarantees (held or 未確認) and every check. */
  const show: RequestHandler = (req, res, next) => {
    const entry = contracts.find(req.user!.ordererId, String(req.params.reference));
    if (!entry) return next();
    res.render("contracts/show", toContractView(entry, { flash: takeFlash(req) }));
  };

  /** GET /contracts/:reference/edit: the form for a 変更契約, filled with the contract as stored. */
  const editForm: RequestHandler = (req, res, next) => {
    const entry = contracts.find(req.user!.ordererId, String(req.params.reference));
    if (!entry) return next();
    res.render("contracts/form", toContractFormView({ values: toContractFields(entry.contract), current: entry.contract }));
  };

  /**
   * POST /contracts/:reference: a 変更契約 of the revision the form showed; 303 to the contract.
   * 400 with the problems; 409 when someone changed the contract since the form was opened.
   */
  const update: RequestHandler = (req, res, next) => {
    const entry = contracts.find(req.user!.ordererId, String(req.params.reference));
    if (!entry) return next();
    const form = readForm(req, { ...FORM_LIMITS, revision: 12 });
    if (!REVISION.test(form.revision)) throw new HttpError(400, "bad-form-field", { detail: "bad form field revision" });
    const current = { reference: entry.contract.reference, revision: Number(form.revision) };
    const saved = contracts.save(actorOf(req), form, current);
    if (!saved.ok) {
      const conflict = saved.problems.some((p) => p.field === "form");
      return res.status(conflict ? 409 : 400).render("contracts/form", toContractFormView({ values: form, problems: saved.problems, current }));
    }
    req.session.flash = `契約 ${saved.value.reference} の変更を保存しました。`;
    res.redirect(303, contractHref(saved.value.reference));
  };

  /**
   * POST /contracts/import (multipart: `ledger` and `_csrf`, read by http/multipart-body.ts before
   * CSRF): the whole ledger or nothing; 303 to the register with what changed, or the register
   * with every problem as 「N行目 列名: 理由」 (400).
   */
  const importLedger: RequestHandler = (req, res) => {
    const upload = res.locals.upload as Upload;
    const imported = contracts.importLedger(actorOf(req), upload.bytes);
    if (!imported.ok) {
      return renderRegister(req, res, 400, { errors: importErrors(imported.problems) });
    }
    const { created, changed, unchanged } = imported.value;
    req.session.flash = `契約台帳を取り込みました（新規 ${created.length}件、変更 ${changed.length}件、変更なし ${unchanged}件）。`;
    res.redirect(303, "/contracts");
  };

  /** GET /contracts.csv?encoding=utf-8|shift_jis: the register for Excel, as an attachment. */
  const exportLedger: RequestHandler = (req, res) => {
    const requested = queryText(req, "encoding") || "utf-8";
    const encoding = Object.hasOwn(ENCODINGS, requested) ? ENCODINGS[requested]! : undefined;
    if (!encoding) throw new HttpError(400, "bad-encoding", { detail: "encoding must be utf-8 or shift_jis" });
    const exported = contracts.exportLedger(actorOf(req), encoding);
    if (!exported.ok) return renderRegister(req, res, 400, { errors: importErrors(exported.problems) });
    res.attachment(`契約台帳-${tokyoDate(clock.now())}.csv`);
    res.set({ "Content-Type": CONTENT_TYPES[encoding], "Cache-Control": "no-store" });
    res.send(Buffer.from(exported.value));
  };

  return { register, newForm, create, show, editForm, update, importLedger, exportLedger };
}

/** A ledger's problems name the row and the column by its header: 「3行目 請負代金額: …」. */
function importErrors(problems: readonly Problem[]) {
  return problems.map((p) => ({ field: LEDGER_FIELD, message: describeLedgerProblem(p) }));
}
