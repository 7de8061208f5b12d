/**
 * Local calendar arithmetic in any IANA time zone, with nothing but Intl.
 *
 * Limits are counted per local day and month and the sending window is in local wall time, so the
 * dispatcher asks "what day is it in Moscow?" on every tick: the Intl formatters are cached per
 * zone because constructing one costs far more than using it.
 *
 * DST rule used throughout (see `zonedInstant`): a wall time means "the first instant at which
 * the local clock shows this time or later". In a spring-forward gap that is the instant of the
 * jump (02:30 on 2026-03-29 in Berlin → 03:00 CEST); in a fall-back overlap it is the first
 * occurrence (02:30 on 2026-10-25 in Berlin → 02:30 CEST, not CET). Every use here is a
 * threshold — a window opens, a day starts — and for a threshold the first instant the clock
 * reaches it is the one a person expects.
 */

/** A local date and time as a clock on the wall in some zone shows it. */
export interface LocalParts {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  /** 0–23. */
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday, as Date#getDay. */
  weekday: number;
}

/** A local wall time to turn into an instant. Out-of-range fields roll over as in Date.UTC (day 32 → next month). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-US with h23 and numeric fields: the parts are plain ASCII digits whatever the host
    // locale, and midnight is 00, not 24 (hour12:false alone gives "24" in some engines).
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True if `tz` is a time zone this Node knows (IANA name such as "Europe/Moscow", or "UTC"). */
export function isValidTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.trim() === '') return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/**
 * Per zone, the UTC offset seen in the last UTC minute asked about. The dispatcher asks for the
 * local day several times per SMS, and Intl's formatToParts is its costliest step (and most of its
 * garbage): within one UTC minute the offset cannot change (zone transitions fall on whole
 * minutes), so the fields follow from the offset by plain arithmetic.
 */
const lastMinute = new Map<string, { minute: number; offsetMs: number }>();

/**
 * The local wall-clock fields of `instant` in `tz`. Throws RangeError for an unknown zone
 * (validate settings with `isValidTimeZone` first).
 */
export function localParts(instant: Date, tz: string): LocalParts {
  const ms = instant.getTime();
  const minute = Math.floor(ms / 60_000);
  const seen = lastMinute.get(tz);
  if (seen !== undefined && seen.minute === minute) return shiftedParts(ms + seen.offsetMs);
  const parts = formattedParts(instant, tz);
  const offsetMs = utcMs(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second) - Math.floor(ms / 1000) * 1000;
  // Only whole-minute offsets (all since 1972; some local mean times before had seconds).
  if (Number.isFinite(minute) && offsetMs % 60_000 === 0) lastMinute.set(tz, { minute, offsetMs });
  return parts;
}

/** The UTC fields of an instant already shifted by the zone's offset: the local wall clock. */
function shiftedParts(localMs: number): LocalParts {
  const d = new Date(localMs);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** localParts through Intl (the zone database), for a minute not seen last. */
function formattedParts(instant: Date, tz: string): LocalParts {
  const parts = formatterFor(tz).formatToParts(instant);
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year': year = Number(p.value); break;
      case 'month': month = Number(p.value); break;
      case 'day': day = Number(p.value); break;
      case 'hour': hour = Number(p.value); break;
      case 'minute': minute = Number(p.value); break;
      case 'second': second = Number(p.value); break;
      // The era is asked for only so that years before 1 AD come out right (1 BC is year 0).
      case 'era': bc = p.value === 'BC' || p.value === 'B'; break;
      default: break;
    }
  }
  if (bc) year = 1 - year;
  // The weekday follows from the local date; computing it is cheaper than parsing a name.
  const weekday = new Date(utcMs(year, month, day, 0, 0, 0)).getUTCDay();
  return { year, month, day, hour, minute, second, weekday };
}

/** Date.UTC that also accepts years 0–99 literally (Date.UTC maps them to 1900–1999). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** How far `tz`'s wall clock is ahead of UTC at `ms`, in milliseconds (whole seconds). */
function offsetAt(ms: number, tz: string): number {
  const p = localParts(new Date(ms), tz);
  // The formatter drops milliseconds, so compare against the instant floored to its second.
  return utcMs(p.year, p.month, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const pad4 = (n: number): string => (n < 0 ? '-' + String(-n).padStart(4, '0') : String(n).padStart(4, '0'));

/** The local date of `instant` as 'YYYY-MM-DD': the key of the daily ledger. */
export function dayKey(instant: Date, tz: string): string {
  const p = localParts(instant, tz);
  return `${pad4(p.year)}-${pad2(p.month)}-${pad2(p.day)}`;
}

/** The local month of `instant` as 'YYYY-MM': the key of the monthly ledger. */
export function monthKey(instant: Date, tz: string): string {
  const p = localParts(instant, tz);
  return `${pad4(p.year)}-${pad2(p.month)}`;
}

const DAY_MS = 86_400_000;

/**
 * The instant at which `tz`'s wall clock shows `wall` — more exactly, the first instant at which
 * it shows `wall` or later:
 * - ordinary times: the one instant that has this wall time;
 * - a fall-back overlap (the wall time happens twice): the earlier of the two;
 * - a spring-forward gap (the wall time never happens): the instant of the jump, i.e. the first
 *   instant after the gap (02:30 in Berlin on 2026-03-29 → 01:00 UTC = 03:00 CEST).
 * Fields roll over like Date.UTC, so `{day: d + 1, hour: 0, minute: 0}` is the next midnight.
 */
export function zonedInstant(wall: WallTime, tz: string): Date {
  const local = utcMs(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second ?? 0);
  // The offsets a day either side cover any transition near `local` (real zones never change
  // offset twice within two days), so the answer is `local` minus one of them.
  const before = offsetAt(local - DAY_MS, tz);
  const after = offsetAt(local + DAY_MS, tz);
  const candidates = before === after ? [before] : [before, after];
  const matches: number[] = [];
  for (const offset of candidates) {
    const t = local - offset;
    if (offsetAt(t, tz) === offset) matches.push(t);
  }
  if (matches.length > 0) return new Date(Math.min(...matches));
  // A gap: the wall time is skipped. With the earlier (smaller) offset the instant lands after
  // the jump, with the later one before it; the jump itself lies between, found by bisection
  // to the second (transitions fall on whole seconds).
  let lo = local - Math.max(before, after); // offset still the old one here
  let hi = local - Math.min(before, after); // already the new one here
  const oldOffset = offsetAt(lo, tz);
  while (hi - lo > 1000) {
    // Whole-second steps (lo and hi are whole seconds), at least one so the loop always ends.
    const mid = lo + Math.max(1000, Math.floor((hi - lo) / 2000) * 1000);
    if (offsetAt(mid, tz) === oldOffset) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}

/** The first instant of the local day after the one containing `instant` (the daily limit resets then). */
export function startOfNextDay(instant: Date, tz: string): Date {
  const p = localParts(instant, tz);
  return zonedInstant({ year: p.year, month: p.month, day: p.day + 1, hour: 0, minute: 0 }, tz);
}

/** The first instant of the local month after the one containing `instant` (the monthly limit resets then). */
export function startOfNextMonth(instant: Date, tz: string): Date {
  const p = localParts(instant, tz);
  return zonedInstant({ year: p.year, month: p.month + 1, day: 1, hour: 0, minute: 0 }, tz);
}

/** The first instant of the local day containing `instant`. */
export function startOfDay(instant: Date, tz: string): Date {
  const p = localParts(instant, tz);
  return zonedInstant({ year: p.year, month: p.month, day: p.day, hour: 0, minute: 0 }, tz);
}

/**
 * How many local calendar days `later` is after `earlier` (0 = the same local day, 1 = the next…);
 * negative if it is before. Counts calendar dates, so a 23- or 25-hour DST day is still one day.
 */
export function localDaysBetween(earlier: Date, later: Date, tz: string): number {
  const a = localParts(earlier, tz);
  const b = localParts(later, tz);
  return Math.round((utcMs(b.year, b.month, b.day, 0, 0, 0) - utcMs(a.year, a.month, a.day, 0, 0, 0)) / DAY_MS);
}
