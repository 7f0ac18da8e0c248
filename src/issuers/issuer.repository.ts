import type { Db } from "../db/database.js";

export type Issuer = {
  id: number;
  code: string;
  name: string;
  address: string;
  representativeTitle: string;
  representativeName: string;
};

type IssuerRow = { id: number; code: string; name: string; address: string; representative_title: string; representative_name: string };

const toIssuer = (r: IssuerRow): Issuer => ({
  id: r.id, code: r.code, name: r.name, address: r.address,
  representativeTitle: r.representative_title, representativeName: r.representative_name,
});

export function createIssuerRepository(db: Db) {
  const byCode = db.prepare<[string], IssuerRow>("SELECT * FROM issuers WHERE code = ?");
  const byId = db.prepare<[number], IssuerRow>("SELECT * FROM issuers WHERE id = ?");
  const all = db.prepare<[], IssuerRow>("SELECT * FROM issuers ORDER BY code");
  const insert = db.prepare(`
    INSERT INTO issuers (code, name, address, representative_title, representative_name, created_at)
    VALUES (@code, @name, @address, @representativeTitle, @representativeName, @createdAt)
    ON CONFLICT (code) DO NOTHING`);
  return {
    findByCode: (code: string) => { const r = byCode.get(code); return r && toIssuer(r); },
    findById: (id: number) => { const r = byId.get(id); return r && toIssuer(r); },
    list: () => all.all().map(toIssuer),
    /** False when the code is taken. */
    insert: (issuer: Omit<Issuer, "id">, createdAt: string): boolean => insert.run({ ...issuer, createdAt }).changes === 1,
  };
}

export type IssuerRepository = ReturnType<typeof createIssuerRepository>;
