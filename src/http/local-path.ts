import type { Request } from "express";
import { hasForbiddenCharacters } from "../format/normalize.js";

const MAX_LENGTH = 2000;
const BASE = "http://kakunin.invalid";

/**
 * A path and query on this site, from a `next` parameter or a Referer header, or undefined: never
 * another site ("//evil.example", "/\\evil.example", "https://…"), so a redirect to it cannot
 * leave the service (an open redirect a phishing mail could use). A full URL is accepted only
 * when it names this request's own host (a Referer), and only its path and query are kept.
 */
export function localPath(raw: unknown, sameHostAs?: Request): string | undefined {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH || hasForbiddenCharacters(raw)) return undefined;
  let url: URL;
  try {
    if (raw.startsWith("/")) {
      if (raw.startsWith("//") || raw.startsWith("/\\")) return undefined;
      url = new URL(raw, BASE);
      if (url.origin !== BASE) return undefined;
    } else {
      if (!sameHostAs) return undefined;
      url = new URL(raw);
      if (url.host !== sameHostAs.get("host") || (url.protocol !== "http:" && url.protocol !== "https:")) return undefined;
    }
  } catch {
    return undefined;
  }
  return `${url.pathname}${url.search}`;
}
