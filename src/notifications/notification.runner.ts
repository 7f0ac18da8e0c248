import { Cron } from "croner";
import type { Clock } from "../clock.js";
import type { MailConfig } from "../config.js";
import type { Logger } from "../logger.js";
import { createSmtpTransport, redactSmtpUrl } from "./mailer.js";
import type { MailService } from "./mail.service.js";
import type { NotificationService } from "./notification.service.js";
import { createOutboxSender } from "./outbox-sender.js";
import { createWebhookSender } from "./webhook-sender.js";
import type { WebhookService } from "./webhook.service.js";

/** Every day at 08:00 in Japan, before the offices open. */
export const DAILY_SCAN = { pattern: "0 8 * * *", timezone: "Asia/Tokyo" } as const;

/**
 * What the service process runs beside its requests: the daily expiry and 未提出 scan, the webhook
 * sender, and (with SMTP_URL) the mail sender. All on unref'd timers; stop() waits for a mail or
 * webhook in hand.
 */
export function startNotifications(deps: {
  config: MailConfig; notifications: NotificationService; mail: MailService; webhooks: WebhookService; clock: Clock; logger: Logger;
}): { stop(): Promise<void> } {
  const { config, notifications, mail, webhooks, clock, logger } = deps;
  // protect: a scan still running (a very large register) is not started twice by this process;
  // another process scanning at once is harmless (each event is recorded once).
  const scan = new Cron(DAILY_SCAN.pattern, { timezone: DAILY_SCAN.timezone, unref: true, protect: true }, () => {
    try {
      logger.info({ ...notifications.scan() }, "notification scan done");
    } catch (error) {
      logger.error({ err: error }, "notification scan failed");
    }
  });
  const hooks = createWebhookSender({ webhooks, clock, logger });
  hooks.start();
  if (config.smtpUrl === null) {
    logger.warn("SMTP_URL is not set: notices appear in Kakunin, mails wait in the outbox unsent");
    return {
      async stop() {
        scan.stop();
        await hooks.stop();
      },
    };
  }
  const sender = createOutboxSender({ mail, transport: createSmtpTransport(config.smtpUrl), from: config.from, logger });
  sender.start();
  logger.info({ smtp: redactSmtpUrl(config.smtpUrl), from: config.from }, "mail sender started");
  return {
    async stop() {
      scan.stop();
      await Promise.all([sender.stop(), hooks.stop()]);
    },
  };
}
