import { createHmac, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedWebhook = { headers: IncomingHttpHeaders; body: string; path: string };

/**
 * A real HTTP receiver on loopback (port 0). It answers each POST with the next status of
 * `answers` (then 204), or never answers while `silent` is set.
 */
export async function startReceiver() {
  const received: ReceivedWebhook[] = [];
  const answers: { status: number; headers?: Record<string, string> }[] = [];
  const state = { silent: false };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), path: req.url ?? "" });
      if (state.silent) return;
      const answer = answers.shift() ?? { status: 204 };
      res.writeHead(answer.status, answer.headers).end(answer.status >= 300 ? "x".repeat(100_000) : undefined);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    answers,
    state,
    url: `http://127.0.0.1:${port}/hooks`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * The Standard Webhooks signature, computed here from the specification and node:crypto alone
 * (not the library the service signs with): base64 HMAC-SHA256, keyed with the base64 after
 * "whsec_", of "<webhook-id>.<webhook-timestamp>.<body>"; the header lists "v1,<signature>"
 * entries separated by spaces.
 */
export function signatureIsValid(secret: string, webhook: ReceivedWebhook): boolean {
  const id = webhook.headers["webhook-id"];
  const timestamp = webhook.headers["webhook-timestamp"];
  const header = webhook.headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof header !== "string") return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${webhook.body}`).digest();
  return header.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
