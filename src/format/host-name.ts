import { isIP } from "node:net";

/** A host name (lower case, letters, digits and hyphens by label) or an IP literal, as WEBHOOK_ALLOWED_HOSTS lists it. */
export function isHostName(text: string): boolean {
  if (isIP(text) !== 0) return true;
  return text.length <= 253 && /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/.test(text);
}
