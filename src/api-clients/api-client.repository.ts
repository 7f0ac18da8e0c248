import type { Db } from "../db/database.js";

/** An orderer's own system, allowed to call the API for that orderer alone. */
export type ApiClient = {
  id: number;
  clientId: string;
  ordererId: number;
  ordererCode: string;
  name: string;
  secretHash: string;
  active: boolean;
  createdAt: string;
  secretSetAt: string;
};

type ApiClientRow = {
  id: number; client_id: string; orderer_id: number; orderer_code: string; name: string; secret_hash: string;
  active: number; created_at: string; secret_set_at: string;
};

const toApiClient = (r: ApiClientRow): ApiClient => ({
  id: r.id, clientId: r.client_id, ordererId: r.orderer_id, ordererCode: r.orderer_code, name: r.name,
  secretHash: r.secret_hash, active: r.active === 1, createdAt: r.created_at, secretSetAt: r.secret_set_at,
});

const SELECT = `SELECT c.*, o.code AS orderer_code FROM api_clients c JOIN orderers o ON o.id = c.orderer_id`;

export function createApiClientRepository(db: Db) {
  const byClientId = db.prepare<[string], ApiClientRow>(`${SELECT} WHERE c.client_id = ?`);
  const all = db.prepare<[], ApiClientRow>(`${SELECT} ORDER BY o.code, c.id`);
  const byOrderer = db.prepare<[string], ApiClientRow>(`${SELECT} WHERE o.code = ? ORDER BY c.id`);
  const insert = db.prepare(`
    INSERT INTO api_clients (client_id, orderer_id, name, secret_hash, active, created_at, secret_set_at)
    VALUES (@clientId, @ordererId, @name, @secretHash, 1, @at, @at)`);
  const setActive = db.prepare("UPDATE api_clients SET active = @active WHERE client_id = @clientId");
  const setSecret = db.prepare("UPDATE api_clients SET secret_hash = @secretHash, secret_set_at = @at WHERE client_id = @clientId");
  return {
    findByClientId: (clientId: string) => { const r = byClientId.get(clientId); return r && toApiClient(r); },
    list: (ordererCode?: string) => (ordererCode === undefined ? all.all() : byOrderer.all(ordererCode)).map(toApiClient),
    insert: (c: { clientId: string; ordererId: number; name: string; secretHash: string; at: string }) => void insert.run(c),
    setActive: (clientId: string, active: boolean) => setActive.run({ clientId, active: active ? 1 : 0 }).changes === 1,
    setSecret: (clientId: string, secretHash: string, at: string) => setSecret.run({ clientId, secretHash, at }).changes === 1,
  };
}

export type ApiClientRepository = ReturnType<typeof createApiClientRepository>;
