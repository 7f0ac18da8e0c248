import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";

/** A mail as the sender hands it over; `messageId` is the outbox row's, the same on every try. */
export type OutgoingMail = { from: string; to: string; subject: string; text: string; messageId: string };

/** Resolves once the SMTP server accepted the mail; rejects with the server's answer or the connection's failure. */
export type MailTransport = { send(mail: OutgoingMail): Promise<void>; close(): void };

// Without these nodemailer waits two minutes for a relay that does not answer; the sender would
// hold its one connection that long.
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/**
 * SMTP_URL in nodemailer's own form (smtp://user:pass@host:587, smtps://host:465). STARTTLS is
 * required unless the URL says otherwise: its query options are read by nodemailer as they are
 * and win over our defaults (?requireTLS=false, or ?ignoreTLS=true for a plain relay on loopback).
 */
export function createSmtpTransport(smtpUrl: string): MailTransport {
  const ignoreTLS = new URL(smtpUrl).searchParams.get("ignoreTLS") === "true";
  const transport = nodemailer.createTransport({ url: smtpUrl, requireTLS: !ignoreTLS, ...TIMEOUTS } as SMTPTransport.Options);
  return {
    async send(mail) {
      await transport.sendMail({ ...mail, headers: { "Auto-Submitted": "auto-generated" } });
    },
    close: () => transport.close(),
  };
}

/** The URL with its password replaced, for logs and error messages. */
export function redactSmtpUrl(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(unparseable SMTP_URL)";
  }
}

/** A 5xx answer is final (the relay will never take it); anything else (4xx, no connection) may pass later. */
export function isPermanentRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === "number" && code >= 500 && code < 600;
}

/** The relay answered (a 4xx or 5xx for this mail), as opposed to no connection or no TLS. */
export function answeredByServer(error: unknown): boolean {
  return typeof (error as { responseCode?: unknown }).responseCode === "number";
}

/** One line for the outbox's last_error and the log: the SMTP answer or the connection failure, never a credential. */
export function describeSendError(error: unknown): string {
  const e = error as { responseCode?: number; response?: string; code?: string; message?: string };
  const text = e.response ?? e.message ?? String(error);
  // nodemailer's messages quote the server, not the URL; the password is still scrubbed in case a proxy echoes it.
  return `${e.code ? `${e.code}: ` : ""}${text}`.replace(/\/\/[^@\s/]*@/g, "//***@").replace(/\s+/g, " ").slice(0, 300);
}
