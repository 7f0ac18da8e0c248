import { createGroupCommit } from "../db/group-commit.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import { tokyoDate } from "../format/era-date.js";
import { normalizeContractNumber } from "../format/normalize.js";
import type { Guarantee, GuaranteeVersion } from "../guarantees/guarantee.repository.js";
import type { GuaranteeService } from "../guarantees/guarantee.service.js";
import type { Officer } from "../officers/officer.repository.js";
import { createGrantRepository, foldForSearch, type HeldFilter, type HeldGuarantee } from "./grant.repository.js";

export type OpenedGuarantee = { guarantee: Guarantee; current: GuaranteeVersion };

export type ViewEvent = "guarantee_view" | "certificate_view" | "certificate_print" | "version_diff_view";

export type HeldQuery = { status: HeldFilter["status"]; text: string };

/** Rows of the verified list at most; search narrows a longer list. */
export const HELD_LIST_LIMIT = 500;

/**
 * The guarantees an orderer holds: those someone of the orderer verified with the key once.
 * Every officer of that orderer may open them without the key; nobody else may, and to anybody
 * else they do not exist (the routes answer the same 404 as for an unknown number).
 */
export function createVerifiedListService(deps: { db: Db; clock: Clock; audit: AuditService; guarantees: GuaranteeService }) {
  const { db, clock, audit, guarantees } = deps;
  const grants = createGrantRepository(db);

  // The view is audited and remembered as opened together (the group commit gives each write a
  // savepoint of its own), committed before the page renders.
  const commits = createGroupCommit(db);
  const recordView = (officer: Officer, opened: OpenedGuarantee, event: ViewEvent, clientAddress: string, detail?: Record<string, unknown>) => {
    grants.recordOpened({
      ordererId: officer.ordererId, guaranteeId: opened.guarantee.id, at: clock.now().toISOString(),
      versionId: opened.current.id, status: opened.guarantee.status,
    });
    audit.appendInTransaction({
      event, outcome: "ok", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode,
      clientAddress, contractNumber: opened.guarantee.contractNumber, ...(detail ? { detail } : {}),
    });
  };

  return {
    /** The guarantee and its version in force, if the officer's orderer holds it; undefined otherwise, whatever the reason. */
    findOpenable(officer: Officer, rawNumber: string): OpenedGuarantee | undefined {
      const number = normalizeContractNumber(rawNumber);
      if (!number.ok) return undefined;
      const guarantee = guarantees.findByContractNumber(number.value);
      if (!guarantee || !grants.find(officer.ordererId, guarantee.id)) return undefined;
      return { guarantee, current: guarantees.currentVersion(guarantee.id)! };
    },

    recordView(officer: Officer, opened: OpenedGuarantee, event: ViewEvent, clientAddress: string, detail?: Record<string, unknown>): Promise<void> {
      return commits.write(() => recordView(officer, opened, event, clientAddress, detail));
    },

    /** The orderer's list, newest verification first; `text` is matched after NFKC and lower-casing, and read as a contract number when it is one. */
    list(officer: Officer, query: HeldQuery): { rows: HeldGuarantee[]; truncated: boolean } {
      const text = foldForSearch(query.text).trim();
      const number = normalizeContractNumber(query.text);
      const rows = grants.listHeld({
        ordererId: officer.ordererId, status: query.status, today: tokyoDate(clock.now()),
        query: text === "" ? null : text, contractNumber: number.ok ? number.value : null, limit: HELD_LIST_LIMIT + 1,
      });
      return { rows: rows.slice(0, HELD_LIST_LIMIT), truncated: rows.length > HELD_LIST_LIMIT };
    },
  };
}

export type VerifiedListService = ReturnType<typeof createVerifiedListService>;
