import type { Request, RequestHandler } from "express";
import type { Clock } from "../clock.js";
import { clientAddress } from "../http/client-address.js";
import { toCertificateView } from "../guarantees/certificate.presenter.js";
import { toDiffView, toHistoryView, toSummaryView } from "../guarantees/guarantee.presenter.js";
import { STATUS_FILTERS, toVerifiedListView, type RelyingContractView, type StatusFilter } from "./holding.presenter.js";
import { HOLDINGS_PAGE_SIZE, type HeldGuaranteeWithVersion, type HoldingService } from "./holding.service.js";

const SEQUENCE = /^[1-9][0-9]{0,8}$/;
const MAX_QUERY_LENGTH = 100;
/** A cursor is an instant and a contract number (37 characters); anything longer is not one. */
const MAX_CURSOR_LENGTH = 64;

/** A single query-string value, or "" for an absent, repeated or bracketed one. */
function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === "string" ? value : "";
}

/**
 * The pages of the guarantees an orderer holds. A guarantee the officer's orderer never verified
 * does not exist here: unknown numbers, other orderers' guarantees and unverified ones all fall
 * through to the app's one 404 page, so that nothing can be learnt by probing URLs.
 */
export function createHoldingHandlers(deps: {
  holdings: HoldingService;
  clock: Clock;
  /** The orderer's contracts that rely on a guarantee, with their 照合 (from the contract register). */
  relyingContracts: (ordererId: number, contractNumber: string) => RelyingContractView[];
}) {
  const { holdings, clock } = deps;

  /** The version named by :sequence, if that is a positive integer and the version exists. */
  function versionOf(req: Request, held: HeldGuaranteeWithVersion) {
    const sequence = String(req.params.sequence);
    return SEQUENCE.test(sequence) ? holdings.findVersion(held, Number(sequence)) : undefined;
  }

  /** GET /guarantees/:contractNumber: 電子保証概要 and 電子保証履歴 (?all=1 lists retracted versions too). */
  const summary: RequestHandler = async (req, res, next) => {
    const held = holdings.findHeld(req.user!, String(req.params.contractNumber));
    if (!held) return next();
    const showAll = queryText(req, "all") === "1";
    await holdings.recordView(req.user!, held, "guarantee_view", clientAddress(req), showAll ? { history: "all" } : undefined);
    res.render("guarantees/summary", {
      ...toSummaryView(held.guarantee, held.current, { now: clock.now() }),
      history: toHistoryView(held.guarantee, holdings.listVersions(held), { showAll, current: held.current }),
      contracts: deps.relyingContracts(req.user!.ordererId, held.guarantee.contractNumber),
    });
  };

  /** GET /guarantees/:contractNumber/certificate: 保証証書 of the version in force. */
  const certificate: RequestHandler = async (req, res, next) => {
    const held = holdings.findHeld(req.user!, String(req.params.contractNumber));
    if (!held) return next();
    await holdings.recordView(req.user!, held, "certificate_view", clientAddress(req), { sequence: held.current.sequence });
    res.render("guarantees/certificate", toCertificateView(held.guarantee, held.current, { now: clock.now(), viewer: req.user!, current: held.current }));
  };

  /** GET /guarantees/:contractNumber/versions/:sequence: 保証証書 of one version, marked when not in force. */
  const versionCertificate: RequestHandler = async (req, res, next) => {
    const held = holdings.findHeld(req.user!, String(req.params.contractNumber));
    const version = held && versionOf(req, held);
    if (!held || !version) return next();
    await holdings.recordView(req.user!, held, "certificate_view", clientAddress(req), { sequence: version.sequence });
    res.render("guarantees/certificate", toCertificateView(held.guarantee, version, { now: clock.now(), viewer: req.user!, current: held.current }));
  };

  /**
   * POST /guarantees/:contractNumber/versions/:sequence/print: records that the certificate was
   * printed (print.js sends it when the browser's print starts, whichever way it was started). 204.
   */
  const recordPrint: RequestHandler = async (req, res, next) => {
    const held = holdings.findHeld(req.user!, String(req.params.contractNumber));
    const version = held && versionOf(req, held);
    if (!held || !version) return next();
    await holdings.recordView(req.user!, held, "certificate_print", clientAddress(req), { sequence: version.sequence });
    res.status(204).end();
  };

  /** GET /guarantees/:contractNumber/versions/:sequence/diff: that version against the one before it, field by field. */
  const diff: RequestHandler = async (req, res, next) => {
    const held = holdings.findHeld(req.user!, String(req.params.contractNumber));
    const newer = held && versionOf(req, held);
    const older = newer && holdings.findVersion(held, newer.sequence - 1);
    if (!held || !newer || !older) return next();
    await holdings.recordView(req.user!, held, "version_diff_view", clientAddress(req), { sequence: newer.sequence, against: older.sequence });
    res.render("guarantees/diff", toDiffView(held.guarantee, older, newer, { now: clock.now(), current: held.current }));
  };

  /** GET /verified: 確認済みの保証, the guarantees the officer's orderer holds, a page at a time;
   * ?status= filters, ?q= searches, ?after= continues after a page (the cursor its 次の100件 link carries). */
  const heldList: RequestHandler = (req, res) => {
    const requested = queryText(req, "status");
    const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(requested) ? (requested as StatusFilter) : "all";
    const q = queryText(req, "q").slice(0, MAX_QUERY_LENGTH);
    const after = queryText(req, "after").slice(0, MAX_CURSOR_LENGTH);
    const page = holdings.list(req.user!, { status, text: q, after });
    res.render("verified/list", toVerifiedListView({ ...page, pageSize: HOLDINGS_PAGE_SIZE }, {
      now: clock.now(), ordererName: req.user!.ordererName, status, q, after,
    }));
  };

  return { summary, certificate, versionCertificate, recordPrint, diff, heldList };
}
