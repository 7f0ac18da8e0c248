import type { Db } from "../db/database.js";

/** An officer's TOTP factor: confirmed (in use) or being enrolled. The secret stays sealed here. */
export type SecondFactor = { id: number; officerId: number; secretSealed: string; confirmed: boolean; lastTimeStep: number };

type FactorRow = { id: number; officer_id: number; secret_sealed: string; confirmed_at: string | null; last_time_step: number };

const toFactor = (r: FactorRow): SecondFactor => ({
  id: r.id, officerId: r.officer_id, secretSealed: r.secret_sealed, confirmed: r.confirmed_at !== null, lastTimeStep: r.last_time_step,
});

export function createSecondFactorRepository(db: Db) {
  const confirmed = db.prepare<[number], FactorRow>("SELECT * FROM second_factors WHERE officer_id = ? AND confirmed_at IS NOT NULL");
  const pending = db.prepare<[number], FactorRow>("SELECT * FROM second_factors WHERE officer_id = ? AND confirmed_at IS NULL");
  const insertPending = db.prepare("INSERT INTO second_factors (officer_id, secret_sealed, created_at) VALUES (@officerId, @secretSealed, @now)");
  const deleteConfirmed = db.prepare("DELETE FROM second_factors WHERE officer_id = ? AND confirmed_at IS NOT NULL");
  const confirm = db.prepare("UPDATE second_factors SET confirmed_at = @now, last_time_step = @timeStep WHERE id = @id AND confirmed_at IS NULL");
  // The replay check and the record of the step are one statement: of two requests carrying the
  // same code at once, exactly one changes the row.
  const useStep = db.prepare("UPDATE second_factors SET last_time_step = @timeStep WHERE id = @id AND last_time_step < @timeStep");
  const deleteAll = db.prepare("DELETE FROM second_factors WHERE officer_id = ?");
  const insertCode = db.prepare("INSERT INTO recovery_codes (officer_id, code_hash, created_at) VALUES (@officerId, @codeHash, @now)");
  const useCode = db.prepare("UPDATE recovery_codes SET used_at = @now WHERE officer_id = @officerId AND code_hash = @codeHash AND used_at IS NULL");
  const deleteCodes = db.prepare("DELETE FROM recovery_codes WHERE officer_id = ?");
  const unusedCodes = db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM recovery_codes WHERE officer_id = ? AND used_at IS NULL");
  return {
    findConfirmed: (officerId: number) => { const r = confirmed.get(officerId); return r && toFactor(r); },
    findPending: (officerId: number) => { const r = pending.get(officerId); return r && toFactor(r); },
    insertPending: (officerId: number, secretSealed: string, now: string) => void insertPending.run({ officerId, secretSealed, now }),
    /** Replaces the officer's confirmed factor by the pending one `id`, its first code's step recorded. */
    confirm(officerId: number, id: number, timeStep: number, now: string): boolean {
      deleteConfirmed.run(officerId);
      return confirm.run({ id, timeStep, now }).changes === 1;
    },
    /** False when a code of this time step or a later one was already accepted (a replay). */
    useTimeStep: (id: number, timeStep: number) => useStep.run({ id, timeStep }).changes === 1,
    /** The factor (confirmed and pending) and the recovery codes go; returns whether there was a factor. */
    removeAll(officerId: number): boolean {
      deleteCodes.run(officerId);
      return deleteAll.run(officerId).changes > 0;
    },
    replaceRecoveryCodes(officerId: number, codeHashes: string[], now: string): void {
      deleteCodes.run(officerId);
      for (const codeHash of codeHashes) insertCode.run({ officerId, codeHash, now });
    },
    /** False when no unused code has this hash: unknown, or used already. */
    useRecoveryCode: (officerId: number, codeHash: string, now: string) => useCode.run({ officerId, codeHash, now }).changes === 1,
    countUnusedRecoveryCodes: (officerId: number) => unusedCodes.get(officerId)!.n,
  };
}

export type SecondFactorRepository = ReturnType<typeof createSecondFactorRepository>;
