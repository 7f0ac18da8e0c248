/**
 * Ratios of a contract amount (契約保証割合, the 前払金 ceilings) as exact fractions: a guarantee
 * of 1 yen too little must fail, so no floating point anywhere. Products go through BigInt,
 * because 請負代金額 × numerator can pass 2^53 for a large contract and a long denominator.
 */

/** numerator/denominator in lowest terms, 0 < ratio <= 1. */
export type Ratio = { readonly numerator: number; readonly denominator: number };

const MAX_TERM = 1_000_000;
const MAX_RAW_LENGTH = 24;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The fraction in lowest terms, or undefined unless 0 < n/d <= 1 with terms up to a million. */
export function ratio(numerator: number, denominator: number): Ratio | undefined {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator)) return undefined;
  if (numerator <= 0 || denominator <= 0 || numerator > denominator) return undefined;
  const divisor = gcd(numerator, denominator);
  const reduced = { numerator: numerator / divisor, denominator: denominator / divisor };
  return reduced.denominator <= MAX_TERM ? reduced : undefined;
}

const FRACTION = /^([0-9]{1,7})\/([0-9]{1,7})$/;
const JAPANESE_FRACTION = /^([0-9]{1,7})分の([0-9]{1,7})$/;
const PERCENT = /^([0-9]{1,3})(?:\.([0-9]{1,4}))?%$/;
const DECIMAL = /^([0-9]?)\.([0-9]{1,6})$/;

/** A decimal "int.frac" scaled by `scale` -> a ratio: "12.5" / 100 -> 1/8. */
function fromDecimal(whole: string, fraction: string, scale: number): Ratio | undefined {
  const denominator = 10 ** fraction.length;
  return ratio(Number(whole || "0") * denominator + Number(fraction || "0"), denominator * scale);
}

/**
 * 契約保証割合 as a ledger writes it: "1/10", "10分の1", "10%", "0.1" (full-width forms and spaces
 * allowed). undefined for anything else, zero included: "not required" is an empty cell.
 */
export function parseRatio(raw: string): Ratio | undefined {
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const text = raw.normalize("NFKC").replace(/\s/gu, "");
  let match = FRACTION.exec(text);
  if (match) return ratio(Number(match[1]), Number(match[2]));
  match = JAPANESE_FRACTION.exec(text);
  if (match) return ratio(Number(match[2]), Number(match[1]));
  match = PERCENT.exec(text);
  if (match) return fromDecimal(match[1]!, match[2] ?? "", 100);
  match = DECIMAL.exec(text);
  if (match) return fromDecimal(match[1]!, match[2]!, 1);
  return undefined;
}

/** "1/10". */
export function formatRatio(r: Ratio): string {
  return `${r.numerator}/${r.denominator}`;
}

/**
 * For a CSV that Excel will open: "10%" when the ratio is a percentage with at most four decimals,
 * else "n/d". Excel reads "1/10" as the 10th of January and saves it back as a date; "10%" it keeps.
 */
export function formatRatioForSpreadsheet(r: Ratio): string {
  for (let decimals = 0; decimals <= 4; decimals++) {
    const scaled = BigInt(r.numerator) * 100n * 10n ** BigInt(decimals);
    if (scaled % BigInt(r.denominator) === 0n) {
      const digits = (scaled / BigInt(r.denominator)).toString().padStart(decimals + 1, "0");
      return decimals === 0 ? `${digits}%` : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}%`;
    }
  }
  return formatRatio(r);
}

/** amount × ratio rounded up to the yen: the least guarantee amount that meets the ratio. */
export function ceilTimes(amount: number, r: Ratio): number {
  const product = BigInt(amount) * BigInt(r.numerator);
  const denominator = BigInt(r.denominator);
  return Number((product + denominator - 1n) / denominator);
}

/** amount × ratio rounded down to the yen: the largest amount within a ceiling. */
export function floorTimes(amount: number, r: Ratio): number {
  return Number((BigInt(amount) * BigInt(r.numerator)) / BigInt(r.denominator));
}

/** part <= whole × ratio, exactly. */
export function isWithin(part: number, whole: number, r: Ratio): boolean {
  return BigInt(part) * BigInt(r.denominator) <= BigInt(whole) * BigInt(r.numerator);
}
