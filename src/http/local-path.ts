import { hasForbiddenCharacters } from "../format/normalize.js";

const MAX_LENGTH = 2000;
const BASE = "http://kakunin.invalid";

/**
 * A path and query on this site, from a `next` parameter, or undefined: never another site
 * ("//evil.example", "/\\evil.example", "https://…"), so that a redirect to it cannot leave the
 * service (an open redirect a phishing mail could use).
 */
export function localPath(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH || hasForbiddenCharacters(raw)) return undefined;
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return undefined;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return undefined;
  }
  const path = `${url.pathname}${url.search}`;
  // Checked again once normalised: "/.//evil.example" and "/a/..//x" become "//…", which a browser
  // reads as another site.
  return url.origin === BASE && !/^[/\\]{2}/.test(path) ? path : undefined;
}
