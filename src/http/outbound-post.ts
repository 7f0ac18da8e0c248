import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { ResolvedAddress } from "./outbound-target.js";

export type PostResult =
  | { answered: true; status: number }
  | { answered: false; error: string };

/** Bytes of a response body read before the connection is dropped: the answer is its status. */
const RESPONSE_BODY_CAP = 4096;

/**
 * POSTs `body` to `url`, connecting only to `addresses` (already checked: the system resolver is
 * not asked again, so DNS cannot be rebound between the check and the connection; TLS still
 * verifies the certificate against the URL's host name). No redirect is followed (a 3xx is an
 * answer like any other), the whole exchange is bounded by `timeoutMs`, and the response body is
 * read up to a few KiB and dropped.
 */
export function postPinned(
  url: URL, addresses: readonly ResolvedAddress[], headers: Record<string, string>, body: string, options: { timeoutMs: number; signal?: AbortSignal },
): Promise<PostResult> {
  const { timeoutMs, signal } = options;
  const first = addresses[0]!;
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [...addresses]);
    else callback(null, first.address, first.family);
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request(url, {
      method: "POST",
      lookup,
      agent: false,
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
    }, (res) => {
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > RESPONSE_BODY_CAP) res.destroy();
      });
      const done = () => settle({ answered: true, status: res.statusCode ?? 0 });
      res.on("end", done);
      res.on("close", done);
      res.on("error", done);
    });
    const timer = setTimeout(() => {
      req.destroy();
      settle({ answered: false, error: `no answer within ${timeoutMs / 1000} s` });
    }, timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => settle({ answered: false, error: describe(error) }));
    signal?.addEventListener("abort", () => {
      req.destroy();
      settle({ answered: false, error: "stopped before an answer" });
    }, { once: true });
    req.end(body);
  });
}

function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED": return "connection refused";
    case "ECONNRESET": return "connection reset";
    case "EHOSTUNREACH": case "ENETUNREACH": return "host unreachable";
    case "ETIMEDOUT": return "connection timed out";
    default: return error.code ? `${error.code}: ${error.message}` : error.message;
  }
}
