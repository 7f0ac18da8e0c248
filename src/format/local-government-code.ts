/** 全国地方公共団体コード: five digits naming the body, then a check digit. */

const CODE = /^[0-9]{6}$/;
const WEIGHTS = [6, 5, 4, 3, 2] as const;

/** True for six ASCII digits whose last is the check digit of the first five (e.g. むつ市 022080). */
export function isValidLocalGovernmentCode(code: string): boolean {
  if (!CODE.test(code)) return false;
  const digits = [...code].map(Number);
  const sum = WEIGHTS.reduce((total, weight, index) => total + weight * (digits[index] ?? 0), 0);
  return (11 - (sum % 11)) % 10 === digits[5];
}
