import { randomBytes, randomUUID } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { parseTargetUrl, resolveTarget, systemResolve, type ResolvedAddress, type Resolve, type TargetPolicy } from "../http/outbound-target.js";
import type { OrdererRepository } from "../orderers/orderer.repository.js";
import { parseOrdererCode } from "../orderers/orderer.service.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Opener, Sealer } from "../security/sealed-box.js";
import { recordFailedAttempt } from "./back-off.js";
import type { OrdererEvent } from "./event.repository.js";
import { toEventJson } from "./event-json.js";
import type { OutboxRepository, OutboxRow } from "./outbox.repository.js";
import type { WebhookEndpoint, WebhookRepository } from "./webhook.repository.js";

/**
 * The service's key pair for the endpoints' secrets, loaded when first needed. Each throws with a
 * message for the operator when its half is not available (the admin CLI has only the public one).
 */
export type WebhookKeys = { sealer(): Sealer; opener(): Opener };

export type WebhookSettings = { policy: TargetPolicy; keys: WebhookKeys; resolve?: Resolve };

/** Endpoints per orderer: a contract system, an accounting system, a spare for a migration, … */
const MAX_ENDPOINTS_PER_ORDERER = 10;

/** Why a row cannot be sent at all: given up at once. */
export const ENDPOINT_REMOVED = "the webhook endpoint was removed";
export const ENDPOINT_GONE = "the receiver answered 410 Gone: the endpoint is disabled";

/** What the sender needs for one row: where to POST and the secret to sign with, or why not. */
export type Delivery =
  | { ok: true; row: OutboxRow<"webhook">; endpoint: WebhookEndpoint; url: URL; secret: string }
  | { ok: false; row: OutboxRow<"webhook">; reason: string; permanent: boolean };

const sealingContext = (endpointId: string) => `webhook:${endpointId}`;

/**
 * The orderers' webhook endpoints, and the webhook channel of the outbox: one row per (event,
 * endpoint) written in the event's own transaction, its body and webhook-id fixed there, so a retry
 * (or a resend after a crash) carries the same id and the receiver can drop the repeat.
 */
export function createWebhookService(deps: {
  webhooks: WebhookRepository; outbox: OutboxRepository; orderers: OrdererRepository; tx: Transactions; clock: Clock; audit: AuditService; settings: WebhookSettings;
}) {
  const { webhooks, outbox, orderers, tx, clock, audit, settings } = deps;
  const { policy, keys } = settings;
  const resolve = settings.resolve ?? systemResolve;
  const now = () => clock.now().toISOString();

  const queue = (endpoint: WebhookEndpoint, topic: string, type: string, body: string, at: string) => outbox.insert<"webhook">({
    channel: "webhook", ordererId: endpoint.ordererId, topic, recipient: endpoint.endpointId,
    messageId: `msg_${randomUUID().replace(/-/g, "")}`, content: { type, body }, createdAt: at, nextAttemptAt: at, lastError: null,
  });

  const insert = tx.transaction((e: Omit<WebhookEndpoint, "id" | "state" | "stateChangedAt">, actor: string): boolean => {
    if (!webhooks.insert(e)) return false;
    audit.appendInTransaction({ event: "webhook_add", outcome: "ok", actorKind: "admin", actor, ordererCode: e.ordererCode, detail: { endpointId: e.endpointId, url: e.url } });
    return true;
  });
  const remove = tx.transaction((endpoint: WebhookEndpoint, actor: string) => {
    webhooks.remove(endpoint.endpointId);
    const dropped = outbox.failPendingFor("webhook", endpoint.endpointId, now(), ENDPOINT_REMOVED);
    audit.appendInTransaction({ event: "webhook_remove", outcome: "ok", actorKind: "admin", actor, ordererCode: endpoint.ordererCode, detail: { endpointId: endpoint.endpointId, url: endpoint.url, dropped } });
  });
  const ping = tx.transaction((endpoint: WebhookEndpoint, actor: string): string => {
    const at = now();
    const topic = `ping:${randomUUID()}`;
    queue(endpoint, topic, "ping", JSON.stringify({ type: "ping", timestamp: at, data: { endpointId: endpoint.endpointId, orderer: endpoint.ordererCode } }), at);
    audit.appendInTransaction({ event: "webhook_test", outcome: "ok", actorKind: "admin", actor, ordererCode: endpoint.ordererCode, detail: { endpointId: endpoint.endpointId } });
    return outbox.forTopic(topic)[0]!.messageId;
  });
  const gone = tx.transaction((row: OutboxRow<"webhook">) => {
    recordFailedAttempt(outbox, row.id, clock.now(), ENDPOINT_GONE, true);
    const endpoint = webhooks.findByEndpointId(row.recipient);
    if (!endpoint || !webhooks.markGone(endpoint.endpointId, now())) return;
    outbox.failPendingFor("webhook", endpoint.endpointId, now(), ENDPOINT_GONE);
    audit.appendInTransaction({ event: "webhook_gone", outcome: "ok", actorKind: "system", actor: "webhook-sender", ordererCode: endpoint.ordererCode, detail: { endpointId: endpoint.endpointId, url: endpoint.url } });
  });

  const requeue = tx.transaction((actor: string) => {
    const count = outbox.requeueFailed("webhook", now());
    audit.appendInTransaction({ event: "webhook_retry", outcome: "ok", actorKind: "admin", actor, detail: { requeued: count } });
    return count;
  });

  function findOrderer(rawCode: string): Outcome<{ id: number; code: string }> {
    const code = parseOrdererCode(rawCode);
    if (!code.ok) return code;
    const orderer = orderers.findByCode(code.value);
    return orderer ? success(orderer) : refusal({ field: "orderer", message: `no orderer ${code.value} is registered` });
  }
  const findEndpoint = (endpointId: string): Outcome<WebhookEndpoint> => {
    const endpoint = webhooks.findByEndpointId(endpointId.trim());
    return endpoint ? success(endpoint) : refusal({ field: "endpoint", message: `no webhook endpoint ${endpointId.trim()} (see "webhook list")` });
  };

  return {
    /**
     * Registers an endpoint after checking its URL and every address its host resolves to now;
     * the secret (whsec_ + 256 random bits, base64) is returned once and stored sealed.
     */
    async add(input: { ordererCode: string; url: string }, actor: string): Promise<Outcome<{ endpoint: WebhookEndpoint; secret: string }>> {
      const orderer = findOrderer(input.ordererCode);
      const url = parseTargetUrl(input.url, policy);
      if (!orderer.ok || !url.ok) return refusal(...(orderer.ok ? [] : orderer.problems), ...(url.ok ? [] : url.problems));
      if (webhooks.list(orderer.value.id).length >= MAX_ENDPOINTS_PER_ORDERER) {
        return refusal({ field: "orderer", message: `${orderer.value.code} already has ${MAX_ENDPOINTS_PER_ORDERER} webhook endpoints; remove one first` });
      }
      const addresses = await resolveTarget(url.value, policy, resolve);
      if (!addresses.ok) return addresses;
      const endpointId = `wh_${randomBytes(10).toString("hex")}`;
      const secret = `whsec_${randomBytes(32).toString("base64")}`;
      const endpoint = {
        endpointId, ordererId: orderer.value.id, ordererCode: orderer.value.code, url: url.value.href,
        secretSealed: keys.sealer().seal(secret, sealingContext(endpointId)), createdAt: now(),
      };
      if (!insert.immediate(endpoint, actor)) return refusal({ field: "url", message: `${orderer.value.code} already has a webhook endpoint at ${url.value.href}` });
      return success({ endpoint: webhooks.findByEndpointId(endpointId)!, secret });
    },
    list(ordererCode?: string): Outcome<WebhookEndpoint[]> {
      if (ordererCode === undefined) return success(webhooks.list());
      const orderer = findOrderer(ordererCode);
      return orderer.ok ? success(webhooks.list(orderer.value.id)) : orderer;
    },
    /** Removes the endpoint and gives up what was still waiting for it. */
    remove(endpointId: string, actor: string): Outcome<WebhookEndpoint> {
      const endpoint = findEndpoint(endpointId);
      if (endpoint.ok) remove.immediate(endpoint.value, actor);
      return endpoint;
    },
    /** Queues a "ping" for the endpoint, through the outbox like every event; its webhook-id. */
    queuePing(endpointId: string, actor: string): Outcome<{ endpoint: WebhookEndpoint; messageId: string }> {
      const endpoint = findEndpoint(endpointId);
      if (!endpoint.ok) return endpoint;
      if (endpoint.value.state !== "active") return refusal({ field: "endpoint", message: `${endpoint.value.endpointId} is disabled (${ENDPOINT_GONE}); remove it and add it again` });
      return success({ endpoint: endpoint.value, messageId: ping.immediate(endpoint.value, actor) });
    },
    /** An outbox row by its webhook-id (what `webhook test` waits on). */
    findDelivery: (messageId: string) => outbox.findByMessageId(messageId) as OutboxRow<"webhook"> | undefined,

    /** For each recorded event, inside its transaction: one outbox row per active endpoint of its orderer. */
    enqueue(event: OrdererEvent): number {
      const endpoints = webhooks.listActive(event.ordererId);
      if (endpoints.length === 0) return 0;
      const body = JSON.stringify({ type: event.kind, timestamp: event.occurredAt, data: toEventJson(event) });
      const at = now();
      return endpoints.filter((e) => queue(e, `event:${event.id}`, event.kind, body, at)).length;
    },

    status: (limit: number) => ({ counts: outbox.counts("webhook"), unsent: outbox.listUnsent("webhook", limit) }),
    /** Given-up webhooks become due now, with a fresh 24-hour window (those of removed or gone endpoints fail again at once). */
    retryFailed: (actor: string): number => requeue.immediate(actor),

    /** The sender's side: the next row due now, with its endpoint and secret, if any is due. */
    nextDue(): Delivery | undefined {
      const row = outbox.nextDue("webhook", now());
      if (!row) return undefined;
      const endpoint = webhooks.findByEndpointId(row.recipient);
      // The ordererId check is a second lock: a row is only ever sent to its own orderer's endpoint.
      if (!endpoint || endpoint.ordererId !== row.ordererId) return { ok: false, row, reason: ENDPOINT_REMOVED, permanent: true };
      if (endpoint.state !== "active") return { ok: false, row, reason: ENDPOINT_GONE, permanent: true };
      let secret: string;
      try {
        secret = keys.opener().open(endpoint.secretSealed, sealingContext(endpoint.endpointId));
      } catch {
        // Another WEBHOOK_KEY_FILE than the one the secret was sealed to: retried, in case the right one comes back.
        return { ok: false, row, reason: "the endpoint's secret does not open with WEBHOOK_KEY_FILE (another key than at webhook add?)", permanent: false };
      }
      return { ok: true, row, endpoint, url: new URL(endpoint.url), secret };
    },
    /** The send-time check of the host's addresses (DNS may have changed since the endpoint was added). */
    checkTarget: (url: URL): Promise<Outcome<ResolvedAddress[]>> => resolveTarget(url, policy, resolve),
    markSent: (id: number) => outbox.markSent(id, now()),
    markAttemptFailed: (id: number, error: string, permanent: boolean) => recordFailedAttempt(outbox, id, clock.now(), error, permanent),
    /** 410 Gone: the row and everything pending for the endpoint given up, the endpoint disabled (audited). */
    markGone: (row: OutboxRow<"webhook">): void => gone.immediate(row),
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
