/** Yen amounts: shown as on the certificate, read forgivingly from what an admin types. */

// en-US groups with an ASCII comma in every ICU build, which is what the certificate prints.
const GROUPED = new Intl.NumberFormat("en-US", { useGrouping: true });

// Bare digits, or commas exactly every three digits: "20,000,00" is a typo, not twenty million.
const AMOUNT = /^(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)$/;

// Generous for any real amount with separators, yet bounds the work done on a hostile cell.
const MAX_RAW_LENGTH = 64;

/** 20000000 -> "20,000,000 円". Throws unless the amount is a safe integer (yen has no fraction). */
export function formatYen(amount: number): string {
  if (!Number.isSafeInteger(amount)) {
    throw new RangeError(`not a whole yen amount: ${amount}`);
  }
  return `${GROUPED.format(amount)} 円`;
}

/**
 * A positive whole yen amount from a CSV cell or a number: full-width digits and commas, thousands
 * separators, surrounding spaces and a trailing 円 are accepted. Anything else (decimals, signs,
 * exponents, zero) is undefined.
 */
export function parseYen(raw: string | number): number | undefined {
  if (typeof raw === "number") {
    return Number.isSafeInteger(raw) && raw > 0 ? raw : undefined;
  }
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const text = raw.normalize("NFKC").trim().replace(/円$/u, "").trimEnd();
  if (!AMOUNT.test(text)) return undefined;
  const amount = Number(text.replaceAll(",", ""));
  return Number.isSafeInteger(amount) && amount > 0 ? amount : undefined;
}
