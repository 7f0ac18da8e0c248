import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { tokyoDate } from "../format/era-date.js";
import { normalizeContractNumber } from "../format/normalize.js";
import { foldForSearch, type Guarantee, type GuaranteeRepository, type GuaranteeVersion } from "../guarantees/guarantee.repository.js";
import type { Officer } from "../officers/officer.repository.js";
import type { HeldGuarantee, HoldingFilter, HoldingPageFilter, HoldingRepository } from "./holding.repository.js";

export type HeldGuaranteeWithVersion = { guarantee: Guarantee; current: GuaranteeVersion };

export type ViewEvent = "guarantee_view" | "certificate_view" | "certificate_print" | "version_diff_view";

/** `after`: the cursor of the page before ("" for the first page), as that page's `next` gave it. */
export type HoldingQuery = { status: HoldingFilter["status"]; text: string; after: string };

/** Rows of one page of 確認済みの保証; 次の100件 continues after the last. */
export const HOLDINGS_PAGE_SIZE = 100;

export type HoldingPage = {
  rows: HeldGuarantee[];
  /** The cursor of the next page, or null on the last. */
  next: string | null;
  /** The cursor given could not be read (altered, or of a guarantee the orderer does not hold): the first page instead. */
  cursorRefused: boolean;
};

/** A page's cursor: where its last row sits in the list's order, by the time it was last verified and
 * its contract number (shown on the page anyway; the internal id never leaves the server). */
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_(\d{5}-\d{6})$/;
const cursorOf = (held: HeldGuarantee) => `${held.lastVerifiedAt}_${held.contractNumber}`;

/**
 * The guarantees an orderer holds: those someone of the orderer verified with the key once.
 * Every officer of that orderer may open them without the key; nobody else may, and to anybody
 * else they do not exist (the routes answer the same 404 as for an unknown number).
 */
export function createHoldingService(deps: { holdings: HoldingRepository; guarantees: GuaranteeRepository; tx: Transactions; clock: Clock; audit: AuditService }) {
  const { holdings, guarantees, tx, clock, audit } = deps;

  // The view is audited and remembered as opened together (the group commit gives each write a
  // savepoint of its own), committed before the page renders.
  const commits = tx.groupCommit();
  const recordView = (officer: Officer, held: HeldGuaranteeWithVersion, event: ViewEvent, clientAddress: string, detail?: Record<string, unknown>) => {
    holdings.recordOpened({
      ordererId: officer.ordererId, guaranteeId: held.guarantee.id, at: clock.now().toISOString(),
      versionId: held.current.id, status: held.guarantee.status,
    });
    audit.appendInTransaction({
      event, outcome: "ok", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode,
      clientAddress, contractNumber: held.guarantee.contractNumber, ...(detail ? { detail } : {}),
    });
  };

  /** The keyset position of a cursor, when it names a guarantee the officer's orderer holds; undefined otherwise. */
  const afterOf = (officer: Officer, cursor: string) => {
    const match = CURSOR.exec(cursor);
    const guarantee = match && guarantees.findByContractNumber(match[2]!);
    if (!match || !guarantee || !holdings.find(officer.ordererId, guarantee.id)) return undefined;
    return { lastVerifiedAt: match[1]!, guaranteeId: guarantee.id };
  };

  return {
    /** The guarantee and its version in force, if the orderer (an officer's or an API client's) holds it; undefined otherwise, whatever the reason. */
    findHeld(holder: { ordererId: number }, rawNumber: string): HeldGuaranteeWithVersion | undefined {
      const number = normalizeContractNumber(rawNumber);
      if (!number.ok) return undefined;
      const guarantee = guarantees.findByContractNumber(number.value);
      if (!guarantee || !holdings.find(holder.ordererId, guarantee.id)) return undefined;
      return { guarantee, current: guarantees.currentVersion(guarantee.id)! };
    },

    /** Version `sequence` of a held guarantee, if it exists. */
    findVersion: (held: HeldGuaranteeWithVersion, sequence: number) => guarantees.findVersion(held.guarantee.id, sequence),
    listVersions: (held: HeldGuaranteeWithVersion) => guarantees.listVersions(held.guarantee.id),

    recordView(officer: Officer, held: HeldGuaranteeWithVersion, event: ViewEvent, clientAddress: string, detail?: Record<string, unknown>): Promise<void> {
      return commits.write(() => recordView(officer, held, event, clientAddress, detail));
    },

    /** One keyset page of the orderer's holdings in first-verification order (the API's list). */
    listPage: (filter: HoldingPageFilter) => holdings.listPage(filter),

    /** A page of the orderer's list, newest verification first, after the cursor `after`; `text` is
     * matched after NFKC and lower-casing, and read as a contract number when it is one. */
    list(officer: Officer, query: HoldingQuery): HoldingPage {
      const text = foldForSearch(query.text).trim();
      const number = normalizeContractNumber(query.text);
      const after = query.after === "" ? null : afterOf(officer, query.after);
      const rows = holdings.list({
        ordererId: officer.ordererId, status: query.status, today: tokyoDate(clock.now()),
        query: text === "" ? null : text, contractNumber: number.ok ? number.value : null,
        after: after ?? null, limit: HOLDINGS_PAGE_SIZE + 1,
      });
      const page = rows.slice(0, HOLDINGS_PAGE_SIZE);
      return { rows: page, next: rows.length > HOLDINGS_PAGE_SIZE ? cursorOf(page.at(-1)!) : null, cursorRefused: after === undefined };
    },
  };
}

export type HoldingService = ReturnType<typeof createHoldingService>;
