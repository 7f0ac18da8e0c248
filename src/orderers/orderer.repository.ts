import type { Db } from "../db/database.js";

/** mfaRequired: every officer of the orderer must use a second factor (administrators always must). */
export type Orderer = { id: number; code: string; name: string; acceptsEGuarantees: boolean; mfaRequired: boolean };

type OrdererRow = { id: number; code: string; name: string; accepts_e_guarantees: number; mfa_required: number };

const toOrderer = (r: OrdererRow): Orderer => ({
  id: r.id, code: r.code, name: r.name, acceptsEGuarantees: r.accepts_e_guarantees === 1, mfaRequired: r.mfa_required === 1,
});

export function createOrdererRepository(db: Db) {
  const byCode = db.prepare<[string], OrdererRow>("SELECT * FROM orderers WHERE code = ?");
  const byId = db.prepare<[number], OrdererRow>("SELECT * FROM orderers WHERE id = ?");
  const accepting = db.prepare<[], OrdererRow>("SELECT * FROM orderers WHERE accepts_e_guarantees = 1 ORDER BY code");
  const all = db.prepare<[], OrdererRow>("SELECT * FROM orderers ORDER BY code");
  const insert = db.prepare(`
    INSERT INTO orderers (code, name, accepts_e_guarantees, created_at)
    VALUES (@code, @name, @accepts, @createdAt)
    ON CONFLICT (code) DO NOTHING`);
  const setAccepts = db.prepare("UPDATE orderers SET accepts_e_guarantees = @accepts WHERE code = @code");
  const setMfaRequired = db.prepare("UPDATE orderers SET mfa_required = @required WHERE code = @code");
  return {
    findByCode: (code: string) => { const r = byCode.get(code); return r && toOrderer(r); },
    findById: (id: number) => { const r = byId.get(id); return r && toOrderer(r); },
    listAccepting: () => accepting.all().map(toOrderer),
    list: () => all.all().map(toOrderer),
    /** False when the code is taken. */
    insert: (o: Omit<Orderer, "id" | "mfaRequired">, createdAt: string): boolean =>
      insert.run({ code: o.code, name: o.name, accepts: o.acceptsEGuarantees ? 1 : 0, createdAt }).changes === 1,
    setAcceptsEGuarantees: (code: string, accepts: boolean): boolean => setAccepts.run({ code, accepts: accepts ? 1 : 0 }).changes === 1,
    setMfaRequired: (code: string, required: boolean): boolean => setMfaRequired.run({ code, required: required ? 1 : 0 }).changes === 1,
  };
}

export type OrdererRepository = ReturnType<typeof createOrdererRepository>;
