import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { refusal, success, type Outcome } from "../result.js";

/**
 * Where the service may send requests of its own (webhooks): the SSRF rules of docs/SECURITY.md.
 * In production only https, and only to public addresses, unless the host is one the operator
 * listed (WEBHOOK_ALLOWED_HOSTS). Outside production http and loopback are allowed too, for tests
 * and a receiver on the developer's machine.
 */
export type TargetPolicy = Readonly<{ production: boolean; allowedHosts: readonly string[] }>;

export type ResolvedAddress = { address: string; family: 4 | 6 };

/** Resolves a host to all its addresses (the system resolver, as the connection would). */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolve: Resolve = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

// Not routable on the internet, or not one host: loopback, private (RFC 1918, ULA), link-local
// (cloud metadata at 169.254.169.254), CGNAT, "this network", benchmarking, documentation,
// multicast, reserved, and IPv6's embeddings of IPv4 (checked as the IPv4 address they carry).
const notPublic = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24],
  ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) notPublic.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8], ["2001:db8::", 32], ["100::", 64],
] as const) notPublic.addSubnet(net, bits, "ipv6");

/** The IPv4 address an IPv6 address carries (::ffff:a.b.c.d, ::a.b.c.d, NAT64 64:ff9b::/96), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !notPublic.check(address, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  return v4 !== undefined ? !notPublic.check(v4, "ipv4") : !notPublic.check(address, "ipv6");
}

function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return loopback.check(address, "ipv4");
  const v4 = family === 6 ? embeddedIpv4(address) : undefined;
  return v4 !== undefined ? loopback.check(v4, "ipv4") : family === 6 && loopback.check(address, "ipv6");
}

/** The host as URL gives it, without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();

/** The URL's form: absolute http(s), no credentials, no fragment; https only in production. */
export function parseTargetUrl(raw: string, policy: TargetPolicy): Outcome<URL> {
  const text = raw.trim();
  const url = text.length <= 2000 && URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
    return refusal({ field: "url", message: "must be an absolute https:// URL, e.g. https://keiyaku.city.example.lg.jp/kakunin/webhooks (up to 2000 characters)" });
  }
  if (url.username !== "" || url.password !== "") return refusal({ field: "url", message: "must not carry a user name or password: the receiver checks the signature instead" });
  if (url.hash !== "") return refusal({ field: "url", message: "must not have a #fragment (it is never sent)" });
  if (url.protocol === "http:") {
    if (policy.production) return refusal({ field: "url", message: "must use https:// (http is refused in production)" });
    const host = hostOf(url);
    if (host !== "localhost" && !isLoopback(host)) return refusal({ field: "url", message: "may use http:// only for a loopback host (127.0.0.1, ::1, localhost) outside production; use https://" });
  }
  return success(url);
}

/**
 * Resolves the URL's host and checks every address it has (one bad address refuses them all:
 * the connection could pick any). The addresses returned are the ones to connect to, so that a
 * second resolution cannot swap in another (DNS rebinding).
 */
export async function resolveTarget(url: URL, policy: TargetPolicy, resolve: Resolve = systemResolve): Promise<Outcome<ResolvedAddress[]>> {
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      return refusal({ field: "url", message: `the host ${host} cannot be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    }
    if (addresses.length === 0) return refusal({ field: "url", message: `the host ${host} has no address` });
  }
  if (policy.allowedHosts.includes(host)) return success(addresses);
  for (const { address } of addresses) {
    if (isPublicAddress(address)) continue;
    if (!policy.production && isLoopback(address)) continue;
    return refusal({
      field: "url",
      message: `the host ${host} resolves to ${address}, a loopback, private, link-local or reserved address; list the host in WEBHOOK_ALLOWED_HOSTS if that is intended`,
    });
  }
  return success(addresses);
}
