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

export type HoldingQuery = { status: HoldingFilter["status"]; text: string };

/** Rows of 確認済みの保証 at most; search narrows a longer list. */
export const HOLDINGS_LIST_LIMIT = 500;

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

    /** The orderer's list, newest verification first; `text` is matched after NFKC and lower-casing, and read as a contract number when it is one. */
    list(officer: Officer, query: HoldingQuery): { rows: HeldGuarantee[]; truncated: boolean } {
      const text = foldForSearch(query.text).trim();
      const number = normalizeContractNumber(query.text);
      const rows = holdings.list({
        ordererId: officer.ordererId, status: query.status, today: tokyoDate(clock.now()),
        query: text === "" ? null : text, contractNumber: number.ok ? number.value : null, limit: HOLDINGS_LIST_LIMIT + 1,
      });
      return { rows: rows.slice(0, HOLDINGS_LIST_LIMIT), truncated: rows.length > HOLDINGS_LIST_LIMIT };
    },
  };
}

export type HoldingService = ReturnType<typeof createHoldingService>;
