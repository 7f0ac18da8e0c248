/**
 * Dates as the certificate shows them: the Japanese calendar, always in Asia/Tokyo.
 *
 * The era table is ours rather than ICU's `japanese` calendar so that the output (元年, no
 * abbreviations) does not change with the ICU build Node ships with.
 */

/** An instant as stored (UTC ISO-8601 text) or held in memory. */
export type Instant = Date | string;

interface Era {
  readonly name: string;
  /** First day of the era, "YYYY-MM-DD" (Gregorian), so eras compare as strings. */
  readonly start: string;
}

// Newest first: the first era whose start is not after the date is the one it belongs to.
// 明治 starts on 1868-10-23, the conventional Gregorian date of the proclamation; Japan kept a
// lunisolar calendar until 1873, so month and day before then are Gregorian, not historical.
const ERAS: readonly Era[] = [
  { name: "令和", start: "2019-05-01" },
  { name: "平成", start: "1989-01-08" },
  { name: "昭和", start: "1926-12-25" },
  { name: "大正", start: "1912-07-30" },
  { name: "明治", start: "1868-10-23" },
];

const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

// SQLite's CURRENT_TIMESTAMP writes "YYYY-MM-DD HH:MM:SS" in UTC without a zone, so a missing
// zone means UTC here; Date.parse would read it as process-local time.
const ISO_DATE_TIME =
  /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

// Japan Standard Time is UTC+9 and has had no daylight saving since 1951, so Tokyo's wall clock
// is the UTC clock nine hours on: plain arithmetic, independent of process.env.TZ and of ICU, and
// far cheaper per call than Intl's formatToParts (every page shows several instants).
const TOKYO_OFFSET_MS = 9 * 60 * 60 * 1000;
/** 1951-09-09 00:00 JST (+10 until then): the end of Japan's last daylight saving time. */
const LAST_DAYLIGHT_SAVING_END = Date.UTC(1951, 8, 8, 15);
/** Past this the shifted ISO string no longer has a four-digit year. */
const LAST_TOKYO_INSTANT = Date.UTC(10000, 0, 1) - TOKYO_OFFSET_MS - 1;

interface TokyoParts {
  readonly date: string;
  readonly year: string;
  readonly month: string;
  readonly day: string;
  readonly hour: string;
  readonly minute: string;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True only for a "YYYY-MM-DD" date that exists in the Gregorian calendar (year 0001 to 9999). */
export function isRealIsoDate(s: string): boolean {
  const match = ISO_DATE.exec(s);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Dates already formatted: a page shows a dozen and the same ones again and again (a pure function). */
const formattedDates = new Map<string, string>();
const MAX_FORMATTED_DATES = 10_000;

/** "2026-11-25" -> "令和8年11月25日". Throws on anything but a real date from 明治 on. */
export function formatEraDate(isoDate: string): string {
  let formatted = formattedDates.get(isoDate);
  if (formatted === undefined) {
    formatted = eraDate(isoDate);
    if (formattedDates.size >= MAX_FORMATTED_DATES) formattedDates.clear();
    formattedDates.set(isoDate, formatted);
  }
  return formatted;
}

function eraDate(isoDate: string): string {
  if (!isRealIsoDate(isoDate)) {
    throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  }
  const era = ERAS.find((candidate) => candidate.start <= isoDate);
  if (era === undefined) {
    throw new RangeError(`date before the Meiji era: ${isoDate}`);
  }
  const [year, month, day] = isoDate.split("-").map(Number) as [number, number, number];
  const eraYear = year - Number(era.start.slice(0, 4)) + 1;
  return `${era.name}${eraYear === 1 ? "元" : String(eraYear)}年${month}月${day}日`;
}

// "令和8年4月1日", "令和元年5月1日"; whitespace is removed and NFKC applied before matching.
const ERA_DATE = /^(明治|大正|昭和|平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月([0-9]{1,2})日$/;

/**
 * "令和8年4月1日" (full-width digits, 元年 and spaces allowed) -> "2026-04-01"; undefined unless the
 * date exists and falls within the era it names (令和元年4月30日 is 平成31年, not a 令和 date).
 */
export function parseEraDate(text: string): string | undefined {
  if (text.length > 32) return undefined;
  const match = ERA_DATE.exec(text.normalize("NFKC").replace(/\s/gu, ""));
  if (match === null) return undefined;
  const [, name, yearText = "", month = "", day = ""] = match;
  const index = ERAS.findIndex((era) => era.name === name);
  const era = ERAS[index]!;
  const eraYear = yearText === "元" ? 1 : Number(yearText);
  if (eraYear < 1) return undefined;
  const year = Number(era.start.slice(0, 4)) + eraYear - 1;
  const iso = `${String(year).padStart(4, "0")}-${month.padStart(2, "0")}-${day.padStart(2, "0")}`;
  const next = ERAS[index - 1];
  if (!isRealIsoDate(iso) || iso < era.start || (next !== undefined && iso >= next.start)) return undefined;
  return iso;
}

function toDate(instant: Instant): Date {
  const date = typeof instant === "string" ? parseInstant(instant) : instant;
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`not an instant: ${String(instant)}`);
  }
  return date;
}

function parseInstant(text: string): Date {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) {
    throw new RangeError(`not an ISO-8601 instant: ${JSON.stringify(text)}`);
  }
  const [, date = "", hour, minute, second = "00", zone] = match;
  // Date.parse rolls 2026-02-30 over into March and takes hour 24; a stored timestamp like that is
  // corrupt, not a date to show.
  if (!isRealIsoDate(date) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw new RangeError(`not an ISO-8601 instant: ${JSON.stringify(text)}`);
  }
  const withZone = zone === undefined ? `${text}Z` : text;
  return new Date(withZone.replace(" ", "T"));
}

function tokyoParts(instant: Instant): TokyoParts {
  const date = toDate(instant);
  if (date.getTime() < LAST_DAYLIGHT_SAVING_END) throw new RangeError(`instant before the end of Japan's last daylight saving time: ${date.toISOString()}`);
  if (date.getTime() > LAST_TOKYO_INSTANT) throw new RangeError(`instant after the year 9999 in Tokyo: ${date.toISOString()}`);
  // "YYYY-MM-DDTHH:MM:…" of the shifted instant; years stay four digits until 9999.
  const wall = new Date(date.getTime() + TOKYO_OFFSET_MS).toISOString();
  return { date: wall.slice(0, 10), year: wall.slice(0, 4), month: wall.slice(5, 7), day: wall.slice(8, 10), hour: wall.slice(11, 13), minute: wall.slice(14, 16) };
}

/** The calendar date in Asia/Tokyo of an instant, "YYYY-MM-DD": what "today" means for 保証期限. */
export function tokyoDate(instant: Instant): string {
  return tokyoParts(instant).date;
}

/** An instant in Asia/Tokyo, Japanese calendar: "令和8年11月25日 22:08". */
export function formatEraDateTime(instant: Instant): string {
  const parts = tokyoParts(instant);
  return `${formatEraDate(parts.date)} ${parts.hour}:${parts.minute}`;
}

/** An instant in Asia/Tokyo as the history table's 電子保証発行日時 shows it: "2026/11/25 22:08". */
export function formatSlashDateTime(instant: Instant): string {
  const parts = tokyoParts(instant);
  return `${parts.year}/${parts.month}/${parts.day} ${parts.hour}:${parts.minute}`;
}

/** "YYYY-MM-DD" plus whole days, on the calendar alone (no zone, no daylight saving). */
export function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
