import type { Request } from "express";
import { isIPv4, isIPv6 } from "node:net";

/** The client's address as Express reads it (honouring `trust proxy`); audited as it is. */
export function clientAddress(req: Request): string {
  return req.ip ?? "unknown";
}

/**
 * What an address is counted under (RL-02), the one place this is decided: an IPv4 address as
 * it is (an IPv4-mapped IPv6 address as its IPv4), an IPv6 address by its /64, because one
 * subscriber or office is given a whole /64 and may use any address in it. Anything else (a
 * hostname-like `req.ip` never happens, "unknown" does) is counted as written.
 */
export function addressKey(address: string): string {
  const trimmed = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(trimmed);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const plain = trimmed.replace(/%.*$/, ""); // a zone id (fe80::1%eth0) names an interface, not a host
  if (!isIPv6(plain)) return trimmed;
  const groups = expandIPv6(plain);
  if (groups[5] === "ffff" && groups.slice(0, 5).every((g) => g === "0000")) {
    // ::ffff:7f00:1, the mapped form written in hex
    const v4 = groups.slice(6).flatMap((g) => [parseInt(g.slice(0, 2), 16), parseInt(g.slice(2), 16)]);
    return v4.join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.replace(/^0{1,3}/, "")).join(":")}::/64`;
}

/** Eight 4-digit hex groups of a valid IPv6 address (with "::" and a dotted IPv4 tail expanded). */
function expandIPv6(address: string): string[] {
  let text = address;
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") as [string, string] : [text, undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const middle = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...middle, ...right].map((g) => g.padStart(4, "0"));
}
