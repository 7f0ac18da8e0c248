import { availableParallelism } from "node:os";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import type { Issuer, IssuerRepository } from "../issuers/issuer.repository.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import type { Orderer, OrdererRepository } from "../orderers/orderer.repository.js";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import type { Hasher } from "../security/hasher.js";
import { generateAuthKey } from "../security/secrets.js";
import { checkCertificateRules, issuanceSchema, toProblems, type CertificateContent, type IssuanceInput, type Product } from "./certificate.schema.js";
import type { GuaranteeRepository } from "./guarantee.repository.js";

/** What the admin hands to the contractor, once. The key is never stored or shown again. */
export type IssuedGuarantee = {
  contractNumber: string;
  authKey: string;
  product: Product;
  content: CertificateContent;
};

type PreparedCertificate = { input: IssuanceInput; issuer: Issuer; orderer: Orderer; content: CertificateContent };

export type IssueOptions = {
  onProgress?: (hashed: number, total: number) => void;
  actor: string;
  /** Keys handed to the libuv pool at once; default one per core. Twice the pool's threads keeps
   * every thread busy: one finishing a hash starts the next without waiting for the event loop. */
  hashesInFlight?: number;
};

export function snapshotIssuer(issuer: Issuer): CertificateContent["issuer"] {
  return {
    code: issuer.code, name: issuer.name, address: issuer.address,
    representativeTitle: issuer.representativeTitle, representativeName: issuer.representativeName,
  };
}

export function createIssuanceService(deps: {
  guarantees: GuaranteeRepository; issuers: IssuerRepository; orderers: OrdererRepository; tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService;
}) {
  const { guarantees, issuers, orderers, tx: db, clock, hasher, audit } = deps;

  /** Validates every row against the schema, the rules and the registry; collects all problems. */
  function prepare(rows: unknown[]): Outcome<PreparedCertificate[]> {
    const problems: Problem[] = [];
    const prepared: PreparedCertificate[] = [];
    const seen = new Map<string, number>();
    if (rows.length === 0) return refusal({ field: "(file)", message: "holds no certificates" });
    rows.forEach((raw, index) => {
      const row = index + 1;
      const parsed = issuanceSchema.safeParse(raw);
      if (!parsed.success) {
        problems.push(...toProblems(parsed.error, row));
        return;
      }
      const input = parsed.data;
      const rowProblems: Problem[] = checkCertificateRules(input.product, input).map((p) => ({ ...p, row }));
      const issuer = issuers.findByCode(input.issuer);
      if (!issuer) rowProblems.push({ row, field: "issuer", message: `no issuer "${input.issuer}" is registered` });
      const code = parseOrdererCode(input.orderer.code);
      const orderer = code.ok ? orderers.findByCode(code.value) : undefined;
      if (!code.ok) rowProblems.push({ row, field: "orderer.code", message: code.problems[0]!.message });
      else if (!orderer) rowProblems.push({ row, field: "orderer.code", message: `no orderer ${code.value} is registered` });
      else if (!orderer.acceptsEGuarantees) rowProblems.push({ row, field: "orderer.code", message: `orderer ${code.value} does not accept e-guarantees` });
      const earlier = seen.get(input.contractNumber);
      if (earlier !== undefined) rowProblems.push({ row, field: "contractNumber", message: `${input.contractNumber} repeats row ${earlier}` });
      else if (guarantees.isContractNumberTaken(input.contractNumber)) {
        rowProblems.push({ row, field: "contractNumber", message: `${input.contractNumber} is already issued` });
      }
      seen.set(input.contractNumber, row);
      if (rowProblems.length > 0) {
        problems.push(...rowProblems);
        return;
      }
      const { contractNumber: _n, product: _p, issuer: _i, orderer: ordererInput, ...fields } = input;
      prepared.push({
        input, issuer: issuer!, orderer: orderer!,
        content: { ...fields, orderer: { code: orderer!.code, name: orderer!.name, title: ordererInput.title }, issuer: snapshotIssuer(issuer!) },
      });
    });
    return problems.length > 0 ? refusal(...problems) : success(prepared);
  }

  const commit = db.transaction((items: { prepared: PreparedCertificate; authKeyHash: string }[], actor: string) => {
    const now = clock.now().toISOString();
    for (const { prepared, authKeyHash } of items) {
      // Re-checked inside the write lock: another admin may have issued the number meanwhile.
      if (guarantees.isContractNumberTaken(prepared.input.contractNumber)) {
        throw new ContractNumberTakenError(prepared.input.contractNumber);
      }
      const guaranteeId = guarantees.insertGuarantee({
        contractNumber: prepared.input.contractNumber, product: prepared.input.product, issuerId: prepared.issuer.id,
        ordererId: prepared.orderer.id, authKeyHash, createdAt: now,
      });
      guarantees.insertVersion({
        guaranteeId, sequence: 1, kind: "new", amendmentNumber: 0, correctsVersionId: null, reachedPlatformAt: now, content: prepared.content,
      });
      audit.appendInTransaction({
        event: "guarantee_issue", outcome: "ok", actorKind: "admin", actor,
        ordererCode: prepared.orderer.code, contractNumber: prepared.input.contractNumber, detail: { product: prepared.input.product },
      });
    }
  });

  return {
    prepare,
    /**
     * Issues every certificate of a file or none: validate all rows, generate and hash every key
     * (on the libuv pool, `hashesInFlight` at a time), then insert everything in one transaction.
     * Keys exist only in memory until returned.
     */
    async issue(rows: unknown[], options: IssueOptions): Promise<Outcome<IssuedGuarantee[]>> {
      const prepared = prepare(rows);
      if (!prepared.ok) return prepared;
      const items = prepared.value;
      const keys = items.map(() => generateAuthKey());
      const hashes = new Array<string>(items.length);
      let next = 0;
      let hashed = 0;
      const worker = async () => {
        while (next < items.length) {
          const index = next++;
          hashes[index] = await hasher.hash(keys[index]!);
          options.onProgress?.(++hashed, items.length);
        }
      };
      const inFlight = Math.max(1, options.hashesInFlight ?? availableParallelism());
      await Promise.all(Array.from({ length: Math.min(items.length, inFlight) }, worker));
      try {
        commit.immediate(items.map((p, i) => ({ prepared: p, authKeyHash: hashes[i]! })), options.actor);
      } catch (error) {
        if (error instanceof ContractNumberTakenError) {
          const row = items.findIndex((p) => p.input.contractNumber === error.contractNumber) + 1;
          return refusal({ row, field: "contractNumber", message: `${error.contractNumber} was issued by someone else meanwhile` });
        }
        throw error;
      }
      return success(items.map((p, i) => ({ contractNumber: p.input.contractNumber, authKey: keys[i]!, product: p.input.product, content: p.content })));
    },
  };
}

class ContractNumberTakenError extends Error {
  constructor(readonly contractNumber: string) {
    super(`contract number ${contractNumber} is taken`);
  }
}

export type IssuanceService = ReturnType<typeof createIssuanceService>;
