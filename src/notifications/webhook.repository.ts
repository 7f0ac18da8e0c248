import type { Db } from "../db/database.js";

export type WebhookEndpoint = {
  id: number;
  endpointId: string;
  ordererId: number;
  ordererCode: string;
  url: string;
  secretSealed: string;
  state: "active" | "gone";
  createdAt: string;
  stateChangedAt: string | null;
};

type Row = {
  id: number; endpoint_id: string; orderer_id: number; orderer_code: string; url: string; secret_sealed: string;
  state: "active" | "gone"; created_at: string; state_changed_at: string | null;
};

const toEndpoint = (r: Row): WebhookEndpoint => ({
  id: r.id, endpointId: r.endpoint_id, ordererId: r.orderer_id, ordererCode: r.orderer_code, url: r.url, secretSealed: r.secret_sealed,
  state: r.state, createdAt: r.created_at, stateChangedAt: r.state_changed_at,
});

const SELECT = "SELECT w.*, o.code AS orderer_code FROM webhook_endpoints w JOIN orderers o ON o.id = w.orderer_id";

export function createWebhookRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO webhook_endpoints (endpoint_id, orderer_id, url, secret_sealed, created_at)
    VALUES (@endpointId, @ordererId, @url, @secretSealed, @createdAt)
    ON CONFLICT (orderer_id, url) DO NOTHING`);
  const byEndpointId = db.prepare<[string], Row>(`${SELECT} WHERE w.endpoint_id = ?`);
  const all = db.prepare<[], Row>(`${SELECT} ORDER BY o.code, w.id`);
  const ofOrderer = db.prepare<[number], Row>(`${SELECT} WHERE w.orderer_id = ? ORDER BY w.id`);
  const activeOf = db.prepare<[number], Row>(`${SELECT} WHERE w.orderer_id = ? AND w.state = 'active' ORDER BY w.id`);
  const remove = db.prepare<[string]>("DELETE FROM webhook_endpoints WHERE endpoint_id = ?");
  const markGone = db.prepare("UPDATE webhook_endpoints SET state = 'gone', state_changed_at = @at WHERE endpoint_id = @endpointId AND state = 'active'");

  return {
    /** False when the orderer already has an endpoint with this URL. */
    insert: (e: Pick<WebhookEndpoint, "endpointId" | "ordererId" | "url" | "secretSealed" | "createdAt">): boolean => insert.run(e).changes === 1,
    findByEndpointId: (endpointId: string) => { const r = byEndpointId.get(endpointId); return r && toEndpoint(r); },
    list: (ordererId?: number) => (ordererId === undefined ? all.all() : ofOrderer.all(ordererId)).map(toEndpoint),
    /** The endpoints events are sent to. */
    listActive: (ordererId: number) => activeOf.all(ordererId).map(toEndpoint),
    remove: (endpointId: string): boolean => remove.run(endpointId).changes === 1,
    markGone: (endpointId: string, at: string): boolean => markGone.run({ endpointId, at }).changes === 1,
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
