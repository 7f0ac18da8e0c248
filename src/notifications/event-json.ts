import type { EventKind, EventPayload, OrdererEvent } from "./event.repository.js";

/**
 * An event as the API's feed and the webhooks carry it: the same JSON in both, so a client that
 * hears of an event by webhook and one that polls GET /api/v1/events read the same thing. The
 * subject names what the event is about as the orderer knows it: the guarantee's 保証契約番号 or
 * the register's 契約番号 (the internal subject key stays inside).
 */
export type EventJson = {
  id: number;
  kind: EventKind;
  occurredAt: string;
  subject: { type: "guarantee" | "contract"; id: string };
  payload: EventPayload;
};

export const toEventJson = (event: OrdererEvent): EventJson => ({
  id: event.id,
  kind: event.kind,
  occurredAt: event.occurredAt,
  subject: event.guaranteeId !== null
    ? { type: "guarantee", id: event.payload.contractNumber ?? "" }
    : { type: "contract", id: event.payload.reference ?? "" },
  payload: event.payload,
});
