import type { Db } from "../db/database.js";

/** An officer verifies guarantees; an administrator (所属管理者) also manages the orderer's officers. */
export type OfficerRole = "officer" | "admin";

export const OFFICER_ROLES: readonly OfficerRole[] = ["officer", "admin"];

export type Officer = {
  id: number;
  login: string;
  displayName: string;
  ordererId: number;
  ordererCode: string;
  ordererName: string;
  passwordHash: string;
  active: boolean;
  mustChangePassword: boolean;
  role: OfficerRole;
  lastLoginAt: string | null;
  /** A confirmed second factor (TOTP) is enrolled: the login asks for a code after the password. */
  secondFactorEnrolled: boolean;
  /** The officer's orderer requires a second factor of all its officers. */
  ordererRequiresSecondFactor: boolean;
};

type OfficerRow = {
  id: number; login: string; display_name: string; orderer_id: number; orderer_code: string; orderer_name: string;
  password_hash: string; active: number; must_change_password: number; role: OfficerRole; last_login_at: string | null;
  second_factor: number; mfa_required: number;
};

const toOfficer = (r: OfficerRow): Officer => ({
  id: r.id, login: r.login, displayName: r.display_name, ordererId: r.orderer_id, ordererCode: r.orderer_code,
  ordererName: r.orderer_name, passwordHash: r.password_hash, active: r.active === 1, mustChangePassword: r.must_change_password === 1,
  role: r.role, lastLoginAt: r.last_login_at, secondFactorEnrolled: r.second_factor === 1, ordererRequiresSecondFactor: r.mfa_required === 1,
});

const SELECT = `
  SELECT o.id, o.login, o.display_name, o.orderer_id, r.code AS orderer_code, r.name AS orderer_name,
         o.password_hash, o.active, o.must_change_password, o.role, o.last_login_at, r.mfa_required,
         EXISTS (SELECT 1 FROM second_factors f WHERE f.officer_id = o.id AND f.confirmed_at IS NOT NULL) AS second_factor
  FROM officers o JOIN orderers r ON r.id = o.orderer_id`;

export function createOfficerRepository(db: Db) {
  const byLogin = db.prepare<[string], OfficerRow>(`${SELECT} WHERE o.login = ?`);
  const byId = db.prepare<[number], OfficerRow>(`${SELECT} WHERE o.id = ?`);
  const byOrderer = db.prepare<[string], OfficerRow>(`${SELECT} WHERE r.code = ? ORDER BY o.login`);
  const all = db.prepare<[], OfficerRow>(`${SELECT} ORDER BY r.code, o.login`);
  const insert = db.prepare(`
    INSERT INTO officers (login, display_name, orderer_id, password_hash, active, must_change_password, role, password_changed_at, created_at)
    VALUES (@login, @displayName, @ordererId, @passwordHash, @active, @mustChangePassword, @role, @now, @now)
    ON CONFLICT (login) DO NOTHING`);
  const setPassword = db.prepare(`
    UPDATE officers SET password_hash = @passwordHash, must_change_password = @mustChangePassword, password_changed_at = @now
    WHERE id = @id`);
  const setActive = db.prepare("UPDATE officers SET active = @active WHERE id = @id");
  const setRole = db.prepare("UPDATE officers SET role = @role WHERE id = @id");
  const setLastLogin = db.prepare("UPDATE officers SET last_login_at = @now WHERE id = @id");
  const activeAdmins = db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM officers WHERE orderer_id = ? AND role = 'admin' AND active = 1");
  return {
    findByLogin: (login: string) => { const r = byLogin.get(login); return r && toOfficer(r); },
    findById: (id: number) => { const r = byId.get(id); return r && toOfficer(r); },
    listByOrderer: (ordererCode: string) => byOrderer.all(ordererCode).map(toOfficer),
    list: () => all.all().map(toOfficer),
    /** The new id, or undefined when the login is taken. */
    /** Enabled unless `active` is false (an invited officer, until the invitation is accepted). */
    insert(o: { login: string; displayName: string; ordererId: number; passwordHash: string; mustChangePassword: boolean; role: OfficerRole; active?: boolean }, now: string) {
      const result = insert.run({ ...o, active: o.active === false ? 0 : 1, mustChangePassword: o.mustChangePassword ? 1 : 0, now });
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    setPassword: (id: number, passwordHash: string, mustChangePassword: boolean, now: string) =>
      void setPassword.run({ id, passwordHash, mustChangePassword: mustChangePassword ? 1 : 0, now }),
    setActive: (id: number, active: boolean) => void setActive.run({ id, active: active ? 1 : 0 }),
    setRole: (id: number, role: OfficerRole) => void setRole.run({ id, role }),
    recordLogin: (id: number, now: string) => void setLastLogin.run({ id, now }),
    /** The orderer's enabled administrators: never fewer than one once it has one (see the service). */
    countActiveAdmins: (ordererId: number) => activeAdmins.get(ordererId)!.n,
  };
}

export type OfficerRepository = ReturnType<typeof createOfficerRepository>;
