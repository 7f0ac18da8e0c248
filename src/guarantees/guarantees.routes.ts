import { Router, type Request } from "express";
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import type { Services } from "../services.js";
import { createVerifiedListService, HELD_LIST_LIMIT } from "../verification/verified-list.service.js";
import { toCertificateView } from "./certificate.presenter.js";
import { toDiffView, toHistoryView, toSummaryView } from "./guarantee.presenter.js";
import { STATUS_FILTERS, toVerifiedListView, type StatusFilter } from "./verified-list.presenter.js";

const SEQUENCE = /^[1-9][0-9]{0,8}$/;
const MAX_QUERY_LENGTH = 100;

/** A single query-string value, or "" for an absent, repeated or bracketed one. */
function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === "string" ? value : "";
}

/**
 * The officer-facing pages of a guarantee. A guarantee the officer's orderer never verified does
 * not exist here: unknown numbers, other orderers' guarantees and unverified ones all fall through
 * to the app's one 404 page, so that nothing can be learnt by probing URLs.
 */
export function createGuaranteeRoutes(deps: { db: Db; clock: Clock; services: Services }): Router {
  const router = Router();
  const held = createVerifiedListService({ db: deps.db, clock: deps.clock, audit: deps.services.audit, guarantees: deps.services.guarantees });
  const clientAddress = (req: Request) => req.ip ?? "unknown";

  /** The version named by :sequence, if that is a positive integer and the version exists. */
  function versionOf(req: Request, guaranteeId: number) {
    const sequence = String(req.params.sequence);
    return SEQUENCE.test(sequence) ? deps.services.guarantees.findVersion(guaranteeId, Number(sequence)) : undefined;
  }

  /** GET /guarantees/:contractNumber: 電子保証概要 and 電子保証履歴 (?all=1 lists retracted versions too). */
  router.get("/guarantees/:contractNumber", async (req, res, next) => {
    const opened = held.findOpenable(req.user!, String(req.params.contractNumber));
    if (!opened) return next();
    const showAll = queryText(req, "all") === "1";
    await held.recordView(req.user!, opened, "guarantee_view", clientAddress(req), showAll ? { history: "all" } : undefined);
    const now = deps.clock.now();
    const versions = deps.services.guarantees.listVersions(opened.guarantee.id);
    res.render("guarantees/summary", {
      ...toSummaryView(opened.guarantee, opened.current, { now }),
      history: toHistoryView(opened.guarantee, versions, { showAll, current: opened.current }),
    });
  });

  /** GET /guarantees/:contractNumber/certificate: 保証証書 of the version in force. */
  router.get("/guarantees/:contractNumber/certificate", async (req, res, next) => {
    const opened = held.findOpenable(req.user!, String(req.params.contractNumber));
    if (!opened) return next();
    await held.recordView(req.user!, opened, "certificate_view", clientAddress(req), { sequence: opened.current.sequence });
    res.render("guarantees/certificate", toCertificateView(opened.guarantee, opened.current, { now: deps.clock.now(), viewer: req.user!, current: opened.current }));
  });

  /** GET /guarantees/:contractNumber/versions/:sequence: 保証証書 of one version, marked when not in force. */
  router.get("/guarantees/:contractNumber/versions/:sequence", async (req, res, next) => {
    const opened = held.findOpenable(req.user!, String(req.params.contractNumber));
    const version = opened && versionOf(req, opened.guarantee.id);
    if (!opened || !version) return next();
    await held.recordView(req.user!, opened, "certificate_view", clientAddress(req), { sequence: version.sequence });
    res.render("guarantees/certificate", toCertificateView(opened.guarantee, version, { now: deps.clock.now(), viewer: req.user!, current: opened.current }));
  });

  /**
   * POST /guarantees/:contractNumber/versions/:sequence/print: records that the certificate was
   * printed (print.js sends it when the browser's print starts, whichever way it was started). 204.
   */
  router.post("/guarantees/:contractNumber/versions/:sequence/print", async (req, res, next) => {
    const opened = held.findOpenable(req.user!, String(req.params.contractNumber));
    const version = opened && versionOf(req, opened.guarantee.id);
    if (!opened || !version) return next();
    await held.recordView(req.user!, opened, "certificate_print", clientAddress(req), { sequence: version.sequence });
    res.status(204).end();
  });

  /** GET /guarantees/:contractNumber/versions/:sequence/diff: that version against the one before it, field by field. */
  router.get("/guarantees/:contractNumber/versions/:sequence/diff", async (req, res, next) => {
    const opened = held.findOpenable(req.user!, String(req.params.contractNumber));
    const newer = opened && versionOf(req, opened.guarantee.id);
    const older = newer && deps.services.guarantees.findVersion(opened.guarantee.id, newer.sequence - 1);
    if (!opened || !newer || !older) return next();
    await held.recordView(req.user!, opened, "version_diff_view", clientAddress(req), { sequence: newer.sequence, against: older.sequence });
    res.render("guarantees/diff", toDiffView(opened.guarantee, older, newer, { now: deps.clock.now(), current: opened.current }));
  });

  /** GET /verified: the guarantees the officer's orderer has verified; ?status= filters, ?q= searches. */
  router.get("/verified", (req, res) => {
    const requested = queryText(req, "status");
    const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(requested) ? (requested as StatusFilter) : "all";
    const q = queryText(req, "q").slice(0, MAX_QUERY_LENGTH);
    const list = held.list(req.user!, { status, text: q });
    res.render("verified/list", toVerifiedListView({ ...list, limit: HELD_LIST_LIMIT }, {
      now: deps.clock.now(), ordererName: req.user!.ordererName, status, q,
    }));
  });

  return router;
}
