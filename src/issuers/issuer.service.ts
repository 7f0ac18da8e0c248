import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { hasForbiddenCharacters, normalizeText } from "../format/normalize.js";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import type { Issuer, IssuerRepository } from "./issuer.repository.js";

export type IssuerInput = { code: string; name: string; address: string; representative: string };

export function createIssuerService(deps: { issuers: IssuerRepository; tx: Transactions; clock: Clock; audit: AuditService }) {
  const { issuers, tx: db, clock, audit } = deps;
  const add = db.transaction((issuer: Omit<Issuer, "id">, actor: string) => {
    if (!issuers.insert(issuer, clock.now().toISOString())) return false;
    audit.appendInTransaction({ event: "issuer_add", outcome: "ok", actorKind: "admin", actor, detail: { issuer: issuer.code } });
    return true;
  });
  return {
    ...issuers,
    /** Registers a surety company (保証事業会社). The representative is "title name", e.g. "取締役社長 原田 保夫". */
    add(input: IssuerInput, actor: string): Outcome<Issuer> {
      const problems: Problem[] = [];
      const code = normalizeText(input.code).toLowerCase();
      if (!/^[a-z0-9]{2,32}$/.test(code)) problems.push({ field: "code", message: "must be 2-32 letters or digits (e.g. ejcs)" });
      const name = normalizeText(input.name);
      const address = normalizeText(input.address);
      const representative = normalizeText(input.representative);
      for (const [field, value] of [["name", name], ["address", address], ["representative", representative]] as const) {
        if (value === "" || value.length > 200) problems.push({ field, message: "must be 1-200 characters" });
        else if (hasForbiddenCharacters(value)) problems.push({ field, message: "contains control or invisible characters" });
      }
      const split = /^(\S+)\s+(.+)$/.exec(representative);
      if (representative !== "" && !split) problems.push({ field: "representative", message: 'must be "title name", e.g. "取締役社長 原田 保夫"' });
      if (problems.length > 0) return refusal(...problems);
      const issuer = { code, name, address, representativeTitle: split![1]!, representativeName: split![2]! };
      if (!add.immediate(issuer, actor)) return refusal({ field: "code", message: `issuer ${code} is already registered` });
      return success(issuers.findByCode(code)!);
    },
  };
}

export type IssuerService = ReturnType<typeof createIssuerService>;
