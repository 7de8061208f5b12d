/**
 * The sending window: the local hours in which campaigns may send (default 09:00–21:00).
 *
 * `from` is inclusive and `to` exclusive, to the minute: with 09:00–21:00 a message may start at
 * 20:59:59 but not at 21:00:00. `from` > `to` crosses midnight (22:00–06:00 is open at night);
 * `from` == `to` means open all day. Wall-clock semantics throughout: on a DST day the window
 * follows the clock on the wall, not a count of hours (see zoned-time.ts for gaps and overlaps).
 */
import { windowWords } from '../i18n/scheduling-words.js';
import { localParts, zonedInstant, type LocalParts } from './zoned-time.js';

/** Local 'HH:MM' (24 h) times; `from` inclusive, `to` exclusive. */
export interface SendingWindow {
  from: string;
  to: string;
}

/** The default window of the product brief. */

const timePattern = /^(\d{1,2}):(\d{2})$/;

/** Minutes since local midnight of a valid 'HH:MM' string (call only on a parsed window). */
function minutesOf(hhmm: string): number {
  const m = timePattern.exec(hhmm);
  if (!m) throw new RangeError(`not a HH:MM time: ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Parses one time; returns the normalised 'HH:MM' or a Russian problem. */
function parseTime(value: unknown, which: 'from' | 'to'): { ok: string } | { problem: string } {
  if (typeof value !== 'string' || value.trim() === '') return { problem: windowWords.missingTime(which) };
  const text = value.trim();
  const m = timePattern.exec(text);
  if (!m) return { problem: windowWords.notATime(which, text) };
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  // 24:00 is how people write "until midnight"; here midnight is 00:00 (21:00–00:00 works).
  if (hours === 24 && minutes === 0) return { problem: windowWords.midnightIs0000 };
  if (hours > 23 || minutes > 59) return { problem: windowWords.notATime(which, text) };
  return { ok: `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}` };
}

/**
 * Validates a window from settings or an API body (`{from: "09:00", to: "21:00"}`; "9:00" is
 * accepted and normalised to "09:00"). Returns the window, or a Russian sentence saying what is
 * wrong and how to write it.
 */
export function parseWindow(input: unknown): SendingWindow | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return windowWords.notAWindow;
  const { from, to } = input as Record<string, unknown>;
  const f = parseTime(from, 'from');
  if ('problem' in f) return f.problem;
  const t = parseTime(to, 'to');
  if ('problem' in t) return t.problem;
  return { from: f.ok, to: t.ok };
}

/** True when the window is open all day (`from` == `to`). */
export function isAllDay(window: SendingWindow): boolean {
  return minutesOf(window.from) === minutesOf(window.to);
}

function insideAt(p: LocalParts, fromMin: number, toMin: number): boolean {
  if (fromMin === toMin) return true;
  const m = p.hour * 60 + p.minute;
  return fromMin < toMin ? m >= fromMin && m < toMin : m >= fromMin || m < toMin;
}

/** True when `now` is inside the window in `tz` (`from` inclusive, `to` exclusive). */
export function isInsideWindow(now: Date, window: SendingWindow, tz: string): boolean {
  return insideAt(localParts(now, tz), minutesOf(window.from), minutesOf(window.to));
}

/** The instant `hhmm` falls on the local date of `p` shifted by `dayOffset` days. */
function atLocal(p: LocalParts, dayOffset: number, minutes: number, tz: string): Date {
  return zonedInstant(
    { year: p.year, month: p.month, day: p.day + dayOffset, hour: Math.floor(minutes / 60), minute: minutes % 60 },
    tz,
  );
}

/**
 * When the window next opens: `now` itself if it is open. Otherwise the first instant the local
 * clock reaches `from` — today if `from` is still ahead, else tomorrow. A window that a DST jump
 * swallows whole on one day (e.g. 02:00–02:30 on a spring-forward night) opens the next day.
 */
export function nextWindowOpen(now: Date, window: SendingWindow, tz: string): Date {
  const fromMin = minutesOf(window.from);
  const toMin = minutesOf(window.to);
  const p = localParts(now, tz);
  if (insideAt(p, fromMin, toMin)) return now;
  const m = p.hour * 60 + p.minute;
  // Outside means the clock is in [to, from) (for both kinds of window), so `from` is later
  // today unless the clock has passed it, which only a non-crossing window allows (m ≥ to > from).
  for (let day = m < fromMin ? 0 : 1; day < 4; day++) {
    const open = atLocal(p, day, fromMin, tz);
    if (open.getTime() > now.getTime() && isInsideWindow(open, window, tz)) return open;
  }
  // Unreachable for real zones; keeps the contract (a Date) if a zone did something unheard of.
  return atLocal(p, 1, fromMin, tz);
}

/**
 * When the window closes: the end of the current window if it is open, else the end of the next
 * one (after `nextWindowOpen`). Null when the window is open all day and never closes.
 */
export function windowClosesAt(now: Date, window: SendingWindow, tz: string): Date | null {
  const fromMin = minutesOf(window.from);
  const toMin = minutesOf(window.to);
  if (fromMin === toMin) return null;
  const open = nextWindowOpen(now, window, tz);
  const p = localParts(open, tz);
  // The close is the first `to` after the opening: later the same local day, or the next day
  // for a window that crosses midnight and opened before it.
  for (let day = 0; day < 3; day++) {
    const close = atLocal(p, day, toMin, tz);
    if (close.getTime() > open.getTime()) return close;
  }
  return atLocal(p, 1, toMin, tz);
}
