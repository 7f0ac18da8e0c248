import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { isValidLocalGovernmentCode } from "../format/local-government-code.js";
import { hasForbiddenCharacters, normalizeText } from "../format/normalize.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Orderer, OrdererRepository } from "./orderer.repository.js";

/** Normalises a typed 全国地方公共団体コード and checks its check digit. */
export function parseOrdererCode(raw: string): Outcome<string> {
  const code = normalizeText(raw);
  if (!/^\d{6}$/.test(code)) return refusal({ field: "code", message: `must be the 6-digit local government code, e.g. 022080 (got "${raw}")` });
  if (!isValidLocalGovernmentCode(code)) return refusal({ field: "code", message: `${code} fails the check digit of the local government code` });
  return success(code);
}

export function createOrdererService(deps: { orderers: OrdererRepository; tx: Transactions; clock: Clock; audit: AuditService }) {
  const { orderers, tx: db, clock, audit } = deps;
  const add = db.transaction((orderer: Omit<Orderer, "id" | "mfaRequired">, actor: string) => {
    if (!orderers.insert(orderer, clock.now().toISOString())) return false;
    audit.appendInTransaction({ event: "orderer_add", outcome: "ok", actorKind: "admin", actor, ordererCode: orderer.code });
    return true;
  });
  const setAccepts = db.transaction((code: string, accepts: boolean, actor: string) => {
    if (!orderers.setAcceptsEGuarantees(code, accepts)) return false;
    audit.appendInTransaction({ event: "orderer_accepts_change", outcome: accepts ? "accepts" : "declines", actorKind: "admin", actor, ordererCode: code });
    return true;
  });
  const setMfaRequired = db.transaction((code: string, required: boolean, actor: string) => {
    if (!orderers.setMfaRequired(code, required)) return false;
    audit.appendInTransaction({ event: "orderer_mfa_change", outcome: required ? "required" : "optional", actorKind: "admin", actor, ordererCode: code });
    return true;
  });
  return {
    ...orderers,
    /** Registers an orderer organisation (発注者). */
    add(input: { code: string; name: string; acceptsEGuarantees?: boolean }, actor: string): Outcome<Orderer> {
      const code = parseOrdererCode(input.code);
      if (!code.ok) return code;
      const name = normalizeText(input.name);
      if (name === "" || name.length > 100) return refusal({ field: "name", message: "must be 1-100 characters" });
      if (hasForbiddenCharacters(name)) return refusal({ field: "name", message: "contains control or invisible characters" });
      if (!add.immediate({ code: code.value, name, acceptsEGuarantees: input.acceptsEGuarantees ?? true }, actor)) {
        return refusal({ field: "code", message: `orderer ${code.value} is already registered` });
      }
      return success(orderers.findByCode(code.value)!);
    },
    setAcceptsEGuarantees(rawCode: string, accepts: boolean, actor: string): Outcome<Orderer> {
      const code = parseOrdererCode(rawCode);
      if (!code.ok) return code;
      if (!setAccepts.immediate(code.value, accepts, actor)) return refusal({ field: "code", message: `no orderer ${code.value} is registered` });
      return success(orderers.findByCode(code.value)!);
    },
    /** `orderer mfa CODE --require|--no-require`: whether all the orderer's officers must use a second factor. */
    setMfaRequired(rawCode: string, required: boolean, actor: string): Outcome<Orderer> {
      const code = parseOrdererCode(rawCode);
      if (!code.ok) return code;
      if (!setMfaRequired.immediate(code.value, required, actor)) return refusal({ field: "code", message: `no orderer ${code.value} is registered` });
      return success(orderers.findByCode(code.value)!);
    },
  };
}

export type OrdererService = ReturnType<typeof createOrdererService>;
