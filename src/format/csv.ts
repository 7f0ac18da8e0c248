/**
 * CSV cells for spreadsheets (RFC 4180 quoting). A text cell that Excel would read as a formula
 * (starting with = + - @, a tab or a carriage return; OWASP "CSV injection") gets an apostrophe
 * before it, and before any apostrophes already leading it, so that unguardCell gives back
 * exactly the text that was written: export -> import round-trips.
 */
const FORMULA = /^'*[=+\-@\t\r]/u;
const GUARDED = /^'+[=+\-@\t\r]/u;

export const guardCell = (text: string): string => (FORMULA.test(text) ? `'${text}` : text);
export const unguardCell = (text: string): string => (GUARDED.test(text) ? text.slice(1) : text);

/** One field: quoted when it holds a comma, a quote or a line break, quotes doubled. */
export function quoteCell(text: string): string {
  return /[",\r\n]/u.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A value as one CSV field: text guarded against formulas and quoted, a number as it is, null empty. */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  return typeof value === "number" ? String(value) : quoteCell(guardCell(value));
}
