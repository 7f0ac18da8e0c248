import { refusal, success, type Outcome } from "../result.js";

// A department mailbox as municipalities have them: ASCII local part (dot-atom), a domain of
// letters, digits and hyphens. Quoted local parts and address literals are refused on purpose.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A mailbox address, trimmed, its domain lower-cased; refused with what is wrong. */
export function parseMailAddress(raw: string): Outcome<string> {
  const text = raw.trim();
  const bad = (why: string) => refusal<string>({ field: "address", message: `${why} (got "${text.slice(0, 80)}")` });
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) return bad("must be a mail address such as keiyaku@city.mutsu.lg.jp");
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (text.length > 254 || local.length > 64) return bad("is too long for a mail address");
  if (!LOCAL.test(local)) return bad("has characters a mailbox name cannot have");
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return bad("must end in a domain such as city.mutsu.lg.jp");
  return success(`${local}@${domain}`);
}
