import type { Db } from "../db/database.js";
import type { CertificateContent, Product } from "../guarantees/certificate.schema.js";
import type { GuaranteeStatus } from "../guarantees/guarantee.repository.js";
import type { HeldGuarantee } from "../holdings/holding.repository.js";
import type { Link } from "./checks.js";
import type { ContractTerms } from "./contract.schema.js";

/** A contract of the register, with the 保証契約番号 it names (held or not). */
export type Contract = ContractTerms & {
  id: number;
  ordererId: number;
  revision: number;
  createdAt: string;
  updatedAt: string;
};

/** A contract and its linked numbers, each with the guarantee when the orderer holds it. */
export type ContractWithLinks = { contract: Contract; links: Link[] };

type ContractRow = {
  id: number; orderer_id: number; reference: string; project_name: string; contractor: string; contract_amount: number;
  contract_date: string; period_from: string; period_to: string; advance_amount: number | null; interim_amount: number | null;
  guarantee_ratio_numerator: number | null; guarantee_ratio_denominator: number | null; revision: number;
  created_at: string; updated_at: string;
};

type LinkRow = {
  contract_id: number; contract_number: string;
  guarantee_id: number | null; product: Product; status: GuaranteeStatus; cancelled_at: string | null; cancel_reason: string | null;
  last_verified_at: string; last_opened_version_id: number; last_opened_status: GuaranteeStatus; current_version_id: number; content: string;
};

const toContract = (r: ContractRow, guaranteeNumbers: string[]): Contract => ({
  id: r.id, ordererId: r.orderer_id, reference: r.reference, projectName: r.project_name, contractor: r.contractor,
  contractAmount: r.contract_amount, contractDate: r.contract_date, periodFrom: r.period_from, periodTo: r.period_to,
  advanceAmount: r.advance_amount, interimAmount: r.interim_amount,
  guaranteeRatio: r.guarantee_ratio_numerator === null ? null : { numerator: r.guarantee_ratio_numerator, denominator: r.guarantee_ratio_denominator! },
  guaranteeNumbers, revision: r.revision, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toLink = (r: LinkRow): Link => ({
  contractNumber: r.contract_number,
  held: r.guarantee_id === null ? null : {
    guaranteeId: r.guarantee_id, contractNumber: r.contract_number, product: r.product, status: r.status, cancelledAt: r.cancelled_at,
    cancelReason: r.cancel_reason, lastVerifiedAt: r.last_verified_at, lastOpenedVersionId: r.last_opened_version_id,
    lastOpenedStatus: r.last_opened_status, currentVersionId: r.current_version_id, content: JSON.parse(r.content) as CertificateContent,
  } satisfies HeldGuarantee,
});

const toParams = (t: ContractTerms) => ({
  reference: t.reference, projectName: t.projectName, contractor: t.contractor, contractAmount: t.contractAmount,
  contractDate: t.contractDate, periodFrom: t.periodFrom, periodTo: t.periodTo, advanceAmount: t.advanceAmount,
  interimAmount: t.interimAmount, ratioNumerator: t.guaranteeRatio?.numerator ?? null, ratioDenominator: t.guaranteeRatio?.denominator ?? null,
});

// The guarantee behind a number is joined only through the orderer's own holding, so a number the
// orderer has not verified yields nothing at all, whether or not it exists.
const SELECT_LINKS = `
  SELECT n.contract_id, n.contract_number,
         g.id AS guarantee_id, g.product, g.status, g.cancelled_at, g.cancel_reason,
         og.last_verified_at, og.last_opened_version_id, og.last_opened_status,
         v.id AS current_version_id, v.content
  FROM contracts c
  JOIN contract_guarantee_numbers n ON n.contract_id = c.id
  LEFT JOIN orderer_guarantees og
         ON og.orderer_id = c.orderer_id
        AND og.guarantee_id = (SELECT id FROM guarantees WHERE contract_number = n.contract_number)
  LEFT JOIN guarantees g ON g.id = og.guarantee_id
  LEFT JOIN current_versions v ON v.guarantee_id = og.guarantee_id`;

export type PageFilter = {
  ordererId: number;
  /** Keyset: only references after this one ("" for the first page). */
  after: string;
  /** Folded by foldForSearch, matched literally in the reference or the 工事名; null for all. */
  query: string | null;
  limit: number;
};

export function createContractRepository(db: Db) {
  const byReference = db.prepare<[number, string], ContractRow>("SELECT * FROM contracts WHERE orderer_id = ? AND reference = ?");
  // instr() rather than LIKE, so that % and _ typed by an officer match themselves.
  const page = db.prepare<PageFilter, ContractRow>(`
    SELECT * FROM contracts
    WHERE orderer_id = @ordererId AND reference > @after
      AND (@query IS NULL
        OR instr(search_fold(reference), @query) > 0
        OR instr(search_fold(project_name), @query) > 0)
    ORDER BY reference
    LIMIT @limit`);
  const linksOf = db.prepare<[number], LinkRow>(`${SELECT_LINKS} WHERE c.id = ? ORDER BY n.position`);
  // The links of a whole page in one statement: the page's references are a range of the index.
  const linksInRange = db.prepare<{ ordererId: number; after: string; last: string }, LinkRow>(`
    ${SELECT_LINKS}
    WHERE c.orderer_id = @ordererId AND c.reference > @after AND c.reference <= @last
    ORDER BY c.reference, n.position`);
  const insert = db.prepare(`
    INSERT INTO contracts (orderer_id, reference, project_name, contractor, contract_amount, contract_date, period_from, period_to,
                           advance_amount, interim_amount, guarantee_ratio_numerator, guarantee_ratio_denominator, created_at, updated_at)
    VALUES (@ordererId, @reference, @projectName, @contractor, @contractAmount, @contractDate, @periodFrom, @periodTo,
            @advanceAmount, @interimAmount, @ratioNumerator, @ratioDenominator, @at, @at)
    ON CONFLICT (orderer_id, reference) DO NOTHING`);
  const update = db.prepare(`
    UPDATE contracts SET reference = @reference, project_name = @projectName, contractor = @contractor,
      contract_amount = @contractAmount, contract_date = @contractDate, period_from = @periodFrom, period_to = @periodTo,
      advance_amount = @advanceAmount, interim_amount = @interimAmount,
      guarantee_ratio_numerator = @ratioNumerator, guarantee_ratio_denominator = @ratioDenominator,
      revision = revision + 1, updated_at = @at
    WHERE id = @id AND NOT EXISTS (SELECT 1 FROM contracts o WHERE o.orderer_id = contracts.orderer_id AND o.reference = @reference AND o.id <> @id)`);
  // Served by contract_guarantee_numbers_by_number (migration 007), then the contract's primary key.
  const relyingOn = db.prepare<[string, number], ContractRow>(`
    SELECT c.* FROM contract_guarantee_numbers n JOIN contracts c ON c.id = n.contract_id
    WHERE n.contract_number = ? AND c.orderer_id = ?
    ORDER BY c.reference`);
  const deleteNumbers = db.prepare<[number]>("DELETE FROM contract_guarantee_numbers WHERE contract_id = ?");
  const insertNumber = db.prepare<[number, number, string]>("INSERT INTO contract_guarantee_numbers (contract_id, position, contract_number) VALUES (?, ?, ?)");

  const setNumbers = (contractId: number, numbers: readonly string[]) => {
    deleteNumbers.run(contractId);
    numbers.forEach((number, i) => insertNumber.run(contractId, i + 1, number));
  };

  const withLinks = (row: ContractRow, links: LinkRow[]): ContractWithLinks => ({
    contract: toContract(row, links.map((l) => l.contract_number)),
    links: links.map(toLink),
  });

  return {
    /** The contract with its links, if the orderer has one under this reference. */
    find(ordererId: number, reference: string): ContractWithLinks | undefined {
      const row = byReference.get(ordererId, reference);
      return row && withLinks(row, linksOf.all(row.id));
    },
    /** Up to `limit` contracts after `after` in reference order, each with its links. */
    listPage(filter: PageFilter): ContractWithLinks[] {
      const rows = page.all(filter);
      if (rows.length === 0) return [];
      const links = new Map<number, LinkRow[]>();
      for (const link of linksInRange.all({ ordererId: filter.ordererId, after: filter.after, last: rows.at(-1)!.reference })) {
        const list = links.get(link.contract_id) ?? [];
        list.push(link);
        links.set(link.contract_id, list);
      }
      return rows.map((row) => withLinks(row, links.get(row.id) ?? []));
    },
    /** The orderer's contracts that name this 保証契約番号, in reference order, each with its links. */
    listRelyingOn(ordererId: number, contractNumber: string): ContractWithLinks[] {
      return relyingOn.all(contractNumber, ordererId).map((row) => withLinks(row, linksOf.all(row.id)));
    },
    /** Call inside a transaction (the numbers go in with the contract). The new id, or undefined
     * when the orderer already has a contract under this reference. */
    insert(ordererId: number, terms: ContractTerms, at: string): number | undefined {
      const result = insert.run({ ...toParams(terms), ordererId, at });
      if (result.changes === 0) return undefined;
      const id = Number(result.lastInsertRowid);
      setNumbers(id, terms.guaranteeNumbers);
      return id;
    },
    /** A 変更契約: new terms, revision + 1. Call inside a transaction. False when the new
     * reference is another contract's of the same orderer. */
    update(id: number, terms: ContractTerms, at: string): boolean {
      if (update.run({ ...toParams(terms), id, at }).changes === 0) return false;
      setNumbers(id, terms.guaranteeNumbers);
      return true;
    },
  };
}

export type ContractRepository = ReturnType<typeof createContractRepository>;
