import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { ContractRepository } from "../contracts/contract.repository.js";
import { requiredProducts } from "../contracts/checks.js";
import type { Transactions } from "../db/transactions.js";
import { addDays, tokyoDate } from "../format/era-date.js";
import { certificateFields } from "../guarantees/certificate.presenter.js";
import { PRODUCT_NAMES, type CertificateContent, type Product } from "../guarantees/certificate.schema.js";
import type { GuaranteeVersion } from "../guarantees/guarantee.repository.js";
import type { GuaranteeChange } from "../guarantees/guarantee.service.js";
import { versionLabel } from "../guarantees/version-label.js";
import type { Officer } from "../officers/officer.repository.js";
import type { EventKind, EventPayload, EventRepository, FieldChange, NewEvent, Notice, OrdererEvent } from "./event.repository.js";
import type { MailService, NotificationSettings } from "./mail.service.js";
import type { WebhookService } from "./webhook.service.js";
import { digestMail, eventMail, noticePath } from "./notice-text.js";

/** An officer's unread count and the read state it was counted at (see headerUnreadCount). */
export type UnreadCount = { state: string; count: number };

/** Expiry warnings: within 30 days, within 7 days, passed (保証期限 D holds all of D). */
const EXPIRY_HORIZON_DAYS = 30;
/** The 未提出 reminder: this many days after the contract's 契約日. */
const MISSING_AFTER_DAYS = 14;
/** A 保証期限 passed at most this long ago is still news; one passed before (a first scan, an old register) is not. */
const PASSED_WINDOW_DAYS = 30;
/** Beyond this the header says "99+": counting further would only cost. */
const UNREAD_COUNT_CAP = 100;
/** Notices per page. */
const NOTICES_PAGE_SIZE = 30;

export type ScanResult = { today: string; events: number; mails: number };

/** Which warning a 保証期限 calls for on `today`, if any: the most urgent one that applies. */
function expiryKind(expiry: string, today: string): EventKind | undefined {
  if (expiry < today) return "expiry_passed";
  if (expiry <= addDays(today, 7)) return "expiry_within_7";
  if (expiry <= addDays(today, EXPIRY_HORIZON_DAYS)) return "expiry_within_30";
  return undefined;
}

export function createNotificationService(deps: {
  events: EventRepository; contracts: ContractRepository; mail: MailService; webhooks: Pick<WebhookService, "enqueue">;
  tx: Transactions; clock: Clock; audit: AuditService; settings: NotificationSettings;
}) {
  const { events, contracts, mail, webhooks, tx, clock, audit, settings } = deps;
  const now = () => clock.now().toISOString();

  /**
   * The event as recorded, with its webhooks queued, or undefined when it was recorded before (the
   * once-only rule). Inside a transaction. Each event is its own webhook; the mails may be a digest.
   */
  function recordEvent(event: NewEvent): OrdererEvent | undefined {
    const id = events.insert(event);
    if (id === undefined) return undefined;
    const recorded = { ...event, id };
    webhooks.enqueue(recorded);
    return recorded;
  }

  const scanTransaction = tx.transaction((today: string): ScanResult => {
    const at = now();
    const found = new Map<number, OrdererEvent[]>();
    const keep = (event: OrdererEvent | undefined) => {
      if (event) found.set(event.ordererId, [...(found.get(event.ordererId) ?? []), event]);
    };
    for (const c of events.expiring(today, addDays(today, -PASSED_WINDOW_DAYS), addDays(today, EXPIRY_HORIZON_DAYS))) {
      const kind = expiryKind(c.guaranteeExpiry, today)!;
      // The expiry date is part of the subject: a 変更 that extends the 保証期限 warns again in time.
      keep(recordEvent({
        ordererId: c.ordererId, kind, guaranteeId: c.guaranteeId, contractId: null, subject: `guarantee:${c.guaranteeId}:${c.guaranteeExpiry}`,
        payload: { contractNumber: c.contractNumber, projectName: c.projectName, guaranteeExpiry: c.guaranteeExpiry }, occurredAt: at,
      }));
    }
    for (const candidate of events.contractsDatedBy(addDays(today, -MISSING_AFTER_DAYS), today)) {
      const entry = contracts.find(candidate.ordererId, candidate.reference);
      if (!entry) continue;
      const held = entry.links.flatMap((l) => (l.held ? [l.held.product] : []));
      const missing = requiredProducts(entry.contract).filter((p) => !held.includes(p));
      if (missing.length === 0) continue;
      keep(recordEvent({
        ordererId: candidate.ordererId, kind: "guarantee_missing", guaranteeId: null, contractId: candidate.contractId, subject: `contract:${candidate.contractId}`,
        payload: {
          reference: entry.contract.reference, projectName: entry.contract.projectName, contractDate: entry.contract.contractDate,
          missingProducts: missing.map((p) => PRODUCT_NAMES[p]),
        },
        occurredAt: at,
      }));
    }
    let mails = 0;
    for (const [ordererId, recorded] of found) {
      mails += mail.enqueue(ordererId, `digest:${recorded[0]!.id}`, (name) => digestMail(recorded, name, settings.publicBaseUrl, today));
    }
    const eventCount = [...found.values()].reduce((n, list) => n + list.length, 0);
    audit.appendInTransaction({ event: "notify_scan", outcome: "ok", actorKind: "system", actor: "scan", detail: { today, events: eventCount, mails } });
    return { today, events: eventCount, mails };
  });

  const markAllRead = tx.transaction((officer: Officer, clientAddress: string) => {
    events.markAllRead(officer.ordererId, officer.id);
    audit.appendInTransaction({
      event: "notices_mark_read", outcome: "ok", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode, clientAddress,
    });
  });

  return {
    /**
     * For guarantee.service's onChange, inside the transaction of the change: one event for every
     * orderer that holds the guarantee, and its mails.
     */
    recordGuaranteeChange(change: GuaranteeChange): void {
      const { guarantee } = change;
      const diff = (before: GuaranteeVersion, after: GuaranteeVersion) => diffFields(guarantee.product, guarantee.contractNumber, before.content, after.content);
      let version: GuaranteeVersion;
      let extra: Pick<EventPayload, "changes" | "reason">;
      if (change.kind === "withdrawn") {
        version = change.withdrawn;
        extra = { changes: diff(change.withdrawn, change.current) };
      } else if (change.kind === "cancelled") {
        version = change.current;
        extra = { reason: change.reason };
      } else {
        version = change.after;
        extra = { changes: diff(change.before, change.after) };
      }
      const payload: EventPayload = { contractNumber: guarantee.contractNumber, projectName: version.content.projectName, label: versionLabel(version), ...extra };
      const kind: EventKind = change.kind === "cancelled" ? "guarantee_cancelled" : `version_${change.kind}`;
      // A version is recorded once; a guarantee is cancelled once.
      const subject = change.kind === "cancelled" ? `guarantee:${guarantee.id}` : `version:${version.id}`;
      for (const ordererId of events.holdersOf(guarantee.id)) {
        const event = recordEvent({ ordererId, kind, guaranteeId: guarantee.id, contractId: null, subject, payload, occurredAt: change.at });
        if (event) mail.enqueue(ordererId, `event:${event.id}`, (name) => eventMail(event, name, settings.publicBaseUrl));
      }
    },

    /** The daily scan: expiry warnings and 未提出 reminders, each once, and one digest mail per orderer. */
    scan: (): ScanResult => scanTransaction.immediate(tokyoDate(clock.now())),

    /** The officer's orderer's notices below the cursor `before`, newest first. */
    notices(officer: Officer, before: number | undefined): { notices: Notice[]; next: number | null } {
      const page = events.page({ ordererId: officer.ordererId, officerId: officer.id, before: before ?? Number.MAX_SAFE_INTEGER, limit: NOTICES_PAGE_SIZE + 1 });
      const shown = page.slice(0, NOTICES_PAGE_SIZE);
      return { notices: shown, next: page.length > NOTICES_PAGE_SIZE ? shown.at(-1)!.id : null };
    },
    /** Unread notices of the officer, at most UNREAD_COUNT_CAP (the header shows "99+" beyond 99). */
    unreadCount: (officer: Officer) => events.unreadCount(officer.ordererId, officer.id, UNREAD_COUNT_CAP),
    /**
     * The same count for the header of every page, recounted only when it can have changed (a new
     * event of the orderer, the officer's mark, a notice opened): `known` is what the caller kept
     * from the last time, keyed on that state, which costs three index lookups to read.
     */
    headerUnreadCount(officer: Officer, known: UnreadCount | undefined): UnreadCount {
      const state = events.readState(officer.ordererId, officer.id);
      return known?.state === state ? known : { state, count: events.unreadCount(officer.ordererId, officer.id, UNREAD_COUNT_CAP) };
    },
    /** Marks the notice read for the officer and returns where it leads; undefined for another orderer's or no notice. */
    open(officer: Officer, eventId: number): string | undefined {
      const event = events.findById(eventId);
      if (!event || event.ordererId !== officer.ordererId) return undefined;
      events.markRead(officer.id, event.id);
      return noticePath(event);
    },
    markAllRead: (officer: Officer, clientAddress: string) => markAllRead.immediate(officer, clientAddress),
  };
}

/** The fields that differ between two versions, labelled and formatted as the certificate prints them. */
function diffFields(product: Product, contractNumber: string, before: CertificateContent, after: CertificateContent): FieldChange[] {
  const newer = new Map(certificateFields(product, contractNumber, after).map((f) => [f.key, f.value]));
  return certificateFields(product, contractNumber, before)
    .filter((f) => newer.get(f.key) !== f.value)
    .map((f) => ({ label: f.label, before: f.value, after: newer.get(f.key) ?? "" }));
}

export type NotificationService = ReturnType<typeof createNotificationService>;
