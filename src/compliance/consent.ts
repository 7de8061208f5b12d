import { ru } from '../i18n/ru.js';

/**
 * Consent to advertising (38-FZ art. 18) and who may be sent what. Pure: the history comes from the
 * database, `now` from the injected clock. See CONTEXT.md beside this file.
 */

export type ConsentAction = 'given' | 'withdrawn';

/** One line of a number's consent history. Lines are only ever added, never edited. */
export interface ConsentEvent {
  action: ConsentAction;
  /** When consent was given or withdrawn (for an import: the date in the file, else the import time). */
  at: Date;
  /** How we learnt it: `import`, `manual`, `reply` (an opt-out SMS), `api`… */
  source: string;
  /** The evidence: a form number, a file name, the inbound message id. */
  document: string | null;
  /** Login of the person (or `system`) who recorded it. */
  recordedBy: string;
}

export interface ConsentState {
  consented: boolean;
  /** `at` of the entry that decided (when consent was given or withdrawn); null: no entry yet. */
  since: Date | null;
}

/**
 * Whether the number has consent at `now`: the latest entry with `at <= now` decides. An entry
 * dated in the future does not count until then; two entries at the same instant: `withdrawn` wins.
 * The order of `history` does not matter.
 */
export function consentState(history: readonly ConsentEvent[], now: Date): ConsentState {
  const limit = now.getTime();
  let decider: ConsentEvent | null = null;
  for (const event of history) {
    const t = event.at.getTime();
    if (!(t <= limit)) continue; // future, or an invalid date
    if (
      decider === null ||
      t > decider.at.getTime() ||
      (t === decider.at.getTime() && event.action === 'withdrawn')
    ) {
      decider = event;
    }
  }
  if (decider === null) return { consented: false, since: null };
  return { consented: decider.action === 'given', since: decider.at };
}

/**
 * What a message is, for consent purposes. `advertising` needs consent; `service` (the campaign
 * kind for orders, appointments…) and `notification` (one-off API messages) do not; the
 * `opt-out-confirmation` ("Вы отписаны") goes to a number that has just entered the stop-list.
 */
export type MessageKind = 'advertising' | 'service' | 'notification' | 'opt-out-confirmation';

export interface RecipientFacts {
  kind: MessageKind;
  /** The number is in the stop-list (it opted out, or staff added it). */
  stopListed: boolean;
  /** The number's keyed hash is in the suppression list: its data was erased (152-FZ). */
  suppressed: boolean;
  /** {@link consentState} at the time of sending. */
  consented: boolean;
}

export type ExclusionReason = 'stop-list' | 'no-consent';

export interface Exclusion {
  reason: ExclusionReason;
  /** Russian, stored on the skipped message. */
  text: string;
}

/**
 * Whether a message may go to this recipient: null, or why it is skipped. Everyone honours the
 * stop-list (and suppression, which is the stop-list of erased numbers) except the opt-out
 * confirmation itself; only advertising needs consent.
 */
export function recipientExclusion(facts: RecipientFacts): Exclusion | null {
  if (facts.kind === 'opt-out-confirmation') return null;
  if (facts.stopListed || facts.suppressed) return exclusion('stop-list');
  if (facts.kind === 'advertising' && !facts.consented) return exclusion('no-consent');
  return null;
}

function exclusion(reason: ExclusionReason): Exclusion {
  return { reason, text: ru.compliance.exclusion[reason] };
}

/**
 * A consent column cell read on import. `at` is the date in the cell, else the `now` the caller
 * passed, else null (the caller fills it in).
 */
export type ConsentCell = { ok: true; given: true; at: Date | null } | { ok: true; given: false } | { ok: false; error: string };

const YES = new Set(['да', 'д', 'yes', 'y', '1', '+', 'согласен', 'согласна', 'согласие', 'true', 'истина', '✓', '✔']);
const NO = new Set(['', 'нет', 'н', 'no', 'n', '0', '-', '–', '—', 'не согласен', 'не согласна', 'false', 'ложь']);

// Excel serial day numbers: 25569 is 1970-01-01 (valid for every serial after 1900-02-28).
const EXCEL_EPOCH_SERIAL = 25569;
const DAY_MS = 86_400_000;
const EARLIEST_YEAR = 2000;
const EARLIEST = Date.UTC(EARLIEST_YEAR, 0, 1);
// A date up to a day ahead of `now` is today somewhere in Russia (UTC+2…+12).
const FUTURE_SLACK_MS = DAY_MS;

const DMY = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$/;
const YMD = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const SERIAL = /^\d{5}(?:[.,]\d+)?$/;

/**
 * Reads a consent column cell: «да», «yes», «1», «+», «согласен», «true», «ИСТИНА» (Russian Excel's
 * TRUE) → given; a date → given on that date; «нет», «0», «-», «ЛОЖЬ», empty → not given; anything
 * else → a Russian error for the import report.
 *
 * Dates: `dd.mm.yyyy` (also with `/` or `-`, and with a time as src/lists/sheet.ts prints date
 * cells), `yyyy-mm-dd`, an Excel serial day number (a date cell in General format), a JS Date (read
 * by its UTC fields, as sheet.ts does). **A date is a calendar day and is returned as 00:00 UTC of
 * that day**, whatever the server's zone, so the day written in the file is the day stored; a time
 * in the cell is dropped (we cannot know its zone).
 * Consequence: consent dated "today" counts from 00:00 UTC (03:00 Moscow time). Dates before 2000
 * (probably another column) and dates more than a day after `now` (a typo in the year) are errors.
 */
export function parseConsentCell(value: unknown, now?: Date): ConsentCell {
  if (value === null || value === undefined) return { ok: true, given: false };
  if (typeof value === 'boolean') return value ? { ok: true, given: true, at: now ?? null } : { ok: true, given: false };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return { ok: false, error: ru.compliance.consentCell.badDate(String(value)) };
    return dated(Date.UTC(value.getUTCFullYear(), value.getUTCMonth(), value.getUTCDate()), formatDay(value), now);
  }
  if (typeof value === 'number') {
    if (value === 1) return { ok: true, given: true, at: now ?? null };
    if (value === 0) return { ok: true, given: false };
    return fromSerial(value, String(value), now);
  }
  if (typeof value !== 'string') return { ok: false, error: ru.compliance.consentCell.unknown(shown(String(value))) };

  const text = value.trim();
  const word = text.toLocaleLowerCase('ru').replace(/ё/g, 'е').replace(/\s+/g, ' ');
  if (YES.has(word)) return { ok: true, given: true, at: now ?? null };
  if (NO.has(word)) return { ok: true, given: false };

  const dmy = DMY.exec(text);
  if (dmy) return fromParts(Number(dmy[3]), Number(dmy[2]), Number(dmy[1]), text, now);
  const ymd = YMD.exec(text);
  if (ymd) return fromParts(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]), text, now);
  if (SERIAL.test(text)) return fromSerial(Number(text.replace(',', '.')), text, now);
  return { ok: false, error: ru.compliance.consentCell.unknown(shown(text)) };
}

function fromParts(year: number, month: number, day: number, text: string, now: Date | undefined): ConsentCell {
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  // Date.UTC rolls 31.02 over to 03.03; a real date survives the round trip.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return { ok: false, error: ru.compliance.consentCell.badDate(shown(text)) };
  }
  return dated(ms, text, now);
}

function fromSerial(serial: number, text: string, now: Date | undefined): ConsentCell {
  if (!Number.isFinite(serial) || serial < 0) return { ok: false, error: ru.compliance.consentCell.unknown(shown(text)) };
  const ms = (Math.floor(serial) - EXCEL_EPOCH_SERIAL) * DAY_MS;
  // Small numbers (2, 15, 365) are not dates anyone meant.
  if (ms < EARLIEST) return { ok: false, error: ru.compliance.consentCell.unknown(shown(text)) };
  return dated(ms, text, now);
}

function dated(ms: number, text: string, now: Date | undefined): ConsentCell {
  if (!Number.isFinite(ms)) return { ok: false, error: ru.compliance.consentCell.badDate(shown(text)) };
  if (ms < EARLIEST) return { ok: false, error: ru.compliance.consentCell.tooOld(shown(text)) };
  if (now && ms > now.getTime() + FUTURE_SLACK_MS) return { ok: false, error: ru.compliance.consentCell.future(shown(text)) };
  return { ok: true, given: true, at: new Date(ms) };
}

function formatDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}.${pad(date.getUTCMonth() + 1)}.${date.getUTCFullYear()}`;
}

/** A cell as quoted in an error: at most 40 characters. */
function shown(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : text;
}
