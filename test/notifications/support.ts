import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { OrdererEvent } from "../../src/notifications/event.repository.js";
import type { Channel, OutboxRow } from "../../src/notifications/outbox.repository.js";
import type { World } from "../support/world.js";

/** The orderer's events, oldest first, as the API's feed will read them. */
export const eventsOf = (world: World, ordererId: number): OrdererEvent[] => world.repositories.events.after({ ordererId, after: 0, limit: 1000 });

/** Every outbox row of the channel (mail unless said), oldest first. */
export function outboxRows<C extends Channel = "mail">(world: World, channel: C = "mail" as C): OutboxRow<C>[] {
  return (world.db.prepare("SELECT id FROM outbox WHERE channel = ? ORDER BY id").all(channel) as { id: number }[])
    .map((r) => world.repositories.outbox.findById(r.id)! as OutboxRow<C>);
}

export type ReceivedMail = { envelopeTo: string[]; parsed: ParsedMail; raw: string };

/**
 * A real SMTP server on loopback (port 0), plain (the sender is told ?ignoreTLS=true). `mode`
 * says how it answers the next DATA: accept, or a 451 (temporary). `down()` closes it and
 * `up()` reopens it on the same port.
 */
export async function startSmtpServer(options: { delayMs?: number } = {}) {
  const received: ReceivedMail[] = [];
  let mode: "accept" | "tempfail" = "accept";
  let port = 0;
  const make = () => new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const finish = async () => {
          if (mode === "tempfail") {
            const error = Object.assign(new Error("4.3.0 mailbox busy, try again later"), { responseCode: 451 });
            return callback(error);
          }
          const raw = Buffer.concat(chunks).toString("utf8");
          received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed: await simpleParser(raw), raw });
          callback();
        };
        if (options.delayMs) setTimeout(() => void finish(), options.delayMs);
        else void finish();
      });
    },
  });
  let server = make();
  const listen = async () => {
    server.listen(port, "127.0.0.1");
    await once(server.server, "listening");
    port = (server.server.address() as AddressInfo).port;
  };
  await listen();
  return {
    received,
    get url() { return `smtp://127.0.0.1:${port}/?ignoreTLS=true`; },
    setMode(next: typeof mode) { mode = next; },
    async down() { await new Promise<void>((resolve) => server.close(() => resolve())); },
    async up() { server = make(); await listen(); },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpTestServer = Awaited<ReturnType<typeof startSmtpServer>>;
