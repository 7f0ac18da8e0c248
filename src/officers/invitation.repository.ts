import type { Db } from "../db/database.js";

export type Invitation = {
  id: number; officerId: number; address: string; invitedBy: string; createdAt: string; expiresAt: string; acceptedAt: string | null;
};

type InvitationRow = {
  id: number; officer_id: number; address: string; invited_by: string; created_at: string; expires_at: string; accepted_at: string | null;
};

const toInvitation = (r: InvitationRow): Invitation => ({
  id: r.id, officerId: r.officer_id, address: r.address, invitedBy: r.invited_by, createdAt: r.created_at, expiresAt: r.expires_at, acceptedAt: r.accepted_at,
});

const COLUMNS = "i.id, i.officer_id, i.address, i.invited_by, i.created_at, i.expires_at, i.accepted_at";

export function createInvitationRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO officer_invitations (officer_id, token_hash, address, invited_by, created_at, expires_at)
    VALUES (@officerId, @tokenHash, @address, @invitedBy, @now, @expiresAt)
    ON CONFLICT (officer_id) DO UPDATE SET token_hash = excluded.token_hash, address = excluded.address,
      invited_by = excluded.invited_by, created_at = excluded.created_at, expires_at = excluded.expires_at, accepted_at = NULL`);
  const byTokenHash = db.prepare<[string], InvitationRow>(`SELECT ${COLUMNS} FROM officer_invitations i WHERE i.token_hash = ?`);
  const byOfficer = db.prepare<[number], InvitationRow>(`SELECT ${COLUMNS} FROM officer_invitations i WHERE i.officer_id = ?`);
  const pendingOfOrderer = db.prepare<[number], InvitationRow>(`
    SELECT ${COLUMNS} FROM officers o JOIN officer_invitations i ON i.officer_id = o.id
     WHERE o.orderer_id = ? AND i.accepted_at IS NULL`);
  // Used up only while still unused and unexpired: two tabs submitting at once cannot both set a password.
  const accept = db.prepare("UPDATE officer_invitations SET accepted_at = @now WHERE id = @id AND accepted_at IS NULL AND expires_at > @now");
  const withdraw = db.prepare("DELETE FROM officer_invitations WHERE officer_id = ? AND accepted_at IS NULL");
  return {
    /** Stores the token's hash for the officer, replacing an earlier invitation. */
    save: (row: { officerId: number; tokenHash: string; address: string; invitedBy: string; expiresAt: string }, now: string) => void insert.run({ ...row, now }),
    findByTokenHash: (tokenHash: string) => { const r = byTokenHash.get(tokenHash); return r && toInvitation(r); },
    findByOfficer: (officerId: number) => { const r = byOfficer.get(officerId); return r && toInvitation(r); },
    /** The orderer's invitations not yet accepted (expired ones included). */
    listPending: (ordererId: number) => pendingOfOrderer.all(ordererId).map(toInvitation),
    /** False when it was used or expired meanwhile. */
    accept: (id: number, now: string) => accept.run({ id, now }).changes === 1,
    /** Removes the officer's invitation not yet accepted: its link stops working. False when there was none. */
    withdraw: (officerId: number) => withdraw.run(officerId).changes === 1,
  };
}

export type InvitationRepository = ReturnType<typeof createInvitationRepository>;
