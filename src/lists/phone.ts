import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';

/**
 * Why a cell was not taken as a number to send to. Stable codes: the import report counts them and
 * the Russian text comes from {@link phoneRejectionText}.
 * - `empty`: nothing in the cell.
 * - `invalid`: not a phone number (too few/many digits, letters, a code that does not exist).
 * - `truncated`: Excel's scientific form (`7,91235E+11`): the digits are lost and cannot be recovered.
 * - `several`: more than one number in one cell.
 * - `landline`: a Russian fixed line (SMS does not reach it); a number with an extension counts here too.
 * - `not-mobile`: a valid Russian number of another kind (8-800 toll-free, premium, VoIP…).
 * - `foreign`: a valid number outside Russia, including Kazakhstan, which shares +7 (+7 7xx).
 */
export type PhoneRejection = 'empty' | 'invalid' | 'truncated' | 'several' | 'landline' | 'not-mobile' | 'foreign';

/** Result of {@link normalisePhone}: an E.164 Russian mobile number, or the reason it was refused. */
export type PhoneResult = { ok: true; phone: string } | { ok: false; reason: PhoneRejection };

/**
 * A number typed by staff or sent by another system (API, forms) → its E.164 form; otherwise a
 * 422 that names the field and says why in Russian.
 */
export function requireMobile(raw: unknown, field = 'phone'): string {
  const result = normalisePhone(raw);
  if (!result.ok) throw new AppError('VALIDATION', `${field}: ${phoneRejectionText(result.reason)}`, { field });
  return result.phone;
}

/** The Russian text for a rejection code: what is wrong and what to do about it. */
export function phoneRejectionText(reason: PhoneRejection): string {
  return ru.lists.phoneRejected[reason];
}

/** Longest cell text read as a phone number. */
export const MAX_PHONE_CELL_CHARS = 120;

// Separators people and exports put inside numbers. Removing them before the library sees the text
// lets us recognise the plain-digits forms cheaply and keeps the library from reading "8.912" as text.
const SEPARATORS = /[\s\u00a0\u2007\u202f\-‐‑‒–—―.()[\]/\\_'"`]/g;
// Excel shows long numbers in General format as "7,91235E+11" and CSV exports keep that text.
const SCIENTIFIC = /^([+-]?)(\d+)(?:[.,](\d*))?[eE]\+?(\d{1,2})$/;
// Two phone-length digit runs in one cell ("8 912 …, 8 913 …").
const SEVERAL = /\d[\d\s\u00a0()-]{8,}\d\s*[,;/|\n]+\s*\+?\d[\d\s\u00a0()-]{8,}\d/;

/**
 * Turns whatever a spreadsheet cell holds into an E.164 Russian mobile number (`+79123456789`).
 *
 * Accepts the forms staff really have: `8 (912) 345-67-89`, `+7 912 345 67 89`, `7912…`, `912…`
 * (10 digits), JS numbers from Excel cells (79123456789, 9123456789, also `79123456789.0` text),
 * and scientific text when it still carries every digit (`8.9123456789E10`). Only mobile numbers
 * pass: the library's MOBILE, or FIXED_LINE_OR_MOBILE where its metadata cannot tell (none for RU
 * today, but that is the library's call, not ours). Uses `libphonenumber-js/max` because the
 * default metadata has no number types (getType() is undefined), and checks `isValid()` and country RU
 * because invalid input still yields an E.164 string and +7 7xx is Kazakhstan.
 */
export function normalisePhone(raw: unknown): PhoneResult {
  const text = cellText(raw);
  if (text === null) return { ok: false, reason: 'invalid' };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty' };
  // No way of writing a phone number (even two of them with words around) is this long; the
  // regular expressions and the library below are not linear in the length, so stop here.
  if (trimmed.length > MAX_PHONE_CELL_CHARS) return { ok: false, reason: 'invalid' };

  let compact = trimmed.replace(SEPARATORS, '');
  // Most cells of a real list are one number written with spaces, brackets and dashes: those the
  // library would be given as these same digits and call mobile. No dot or comma (a decimal "….0"),
  // no letters (an exponent, an extension), and 10–11 digits cannot hold two numbers.
  if (CLEAN_DIGITS.test(compact) && PLAIN_NUMBER.test(trimmed)) {
    const fast = fastMobile(compact);
    if (fast) return { ok: true, phone: fast };
  }
  // Excel numbers written out as text by some exports ("79123456789.0", "9123456789,00").
  const decimal = /^(\+?\d+)[.,]0+$/.exec(trimmed.replace(/[\s\u00a0]/g, ''));
  if (decimal?.[1]) compact = decimal[1];

  const sci = SCIENTIFIC.exec(trimmed.replace(/[\s\u00a0]/g, ''));
  if (sci) {
    const expanded = expandScientific(sci);
    if (expanded === null) return { ok: false, reason: 'truncated' };
    compact = expanded;
  }

  if (SEVERAL.test(trimmed)) return { ok: false, reason: 'several' };
  if (!/\d/.test(compact)) return { ok: false, reason: 'invalid' };
  // Most cells of a real list: the library would be given these same digits and say "mobile".
  if (CLEAN_DIGITS.test(compact)) {
    const fast = fastMobile(compact);
    if (fast) return { ok: true, phone: fast };
  }

  const parsed = parsePhoneNumberFromString(compact, 'RU');
  if (!parsed) return { ok: false, reason: 'invalid' };
  if (!parsed.isValid()) return { ok: false, reason: 'invalid' };
  if (parsed.country !== 'RU') return { ok: false, reason: 'foreign' };
  const type = parsed.getType();
  if (type === 'FIXED_LINE') return { ok: false, reason: 'landline' };
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false, reason: 'not-mobile' };
  // "доб. 12" only makes sense for an office switchboard, never for a mobile to text.
  if (parsed.ext) return { ok: false, reason: 'landline' };
  return { ok: true, phone: parsed.number };
}

/** What a spreadsheet cell gives: one mobile number (and the other numbers it also held), or why none. */
export type PhoneCellResult = { ok: true; phone: string; others: string[] } | { ok: false; reason: PhoneRejection };

// The digit run of one number inside text: "моб. 8 912 345-67-89", "8(3452)22-33-44 доб. 5".
const NUMBER_IN_TEXT = /\+?\d[\d\s\u00a0()\-‐‑‒–—.]{8,}\d/g;
// Already clean: 10 or 11 digits, optionally after "+". Most cells of a real list are this.
const CLEAN_DIGITS = /^\+?\d{10,11}$/;
// Digits with only the separators a single number is written with.
const PLAIN_NUMBER = /^\+?[\d\s\u00a0()\-]+$/;

/**
 * A spreadsheet cell → the number to send to. Unlike {@link normalisePhone} (one number typed on
 * purpose, where two numbers are an error), a list cell is whatever a CRM exported: text around
 * the number («моб. 8 912 …»), or several numbers («+7 903 111 22 33, 8(3452)22-33-44»). The first
 * MOBILE number is taken and the others are returned in `others` (as written) for the report.
 * Cells of plain digits (most of them) take a fast path that agrees with the library for Russian
 * mobile numbers (+7 9XX…, all of which libphonenumber types as mobile — checked by a test).
 */
export function normalisePhoneCell(raw: unknown): PhoneCellResult {
  if (typeof raw === 'string' && CLEAN_DIGITS.test(raw)) {
    const fast = fastMobile(raw);
    if (fast) return { ok: true, phone: fast, others: [] };
  }
  const single = normalisePhone(raw);
  if (single.ok) return { ok: true, phone: single.phone, others: [] };
  if (single.reason !== 'several' && single.reason !== 'invalid') return single;
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '' || text.length > MAX_PHONE_CELL_CHARS) return single;
  const found = text.match(NUMBER_IN_TEXT);
  if (!found) return single;
  const candidates = found.map((s) => s.trim());
  // "8 912 345 67 89" inside words: one number with text around; or several numbers.
  let firstReason: PhoneRejection | null = null;
  for (let i = 0; i < candidates.length; i++) {
    const result = normalisePhone(candidates[i]);
    if (result.ok) return { ok: true, phone: result.phone, others: candidates.filter((_, j) => j !== i) };
    firstReason ??= result.reason;
  }
  // No mobile among them: say why the first one was not taken ("several" only if nothing better).
  return { ok: false, reason: candidates.length > 1 && firstReason === 'invalid' ? 'several' : (firstReason ?? single.reason) };
}

// libphonenumber-js/max's pattern of Russian mobile numbers (national, 10 digits). A unit test
// compares the fast path with the library over every 9XX prefix, so a metadata update that moves
// a range shows up there.
const RU_MOBILE = /^9(?:[0-24-9]\d{4}|3(?:0(?:0(?:05|[124579]\d|3[0-7]|6[0-49]|8[04-9])|[1-9]\d\d)|[1-9]\d{3}))\d{4}$/;

/**
 * "+79XXXXXXXXX", "79XXXXXXXXX", "89XXXXXXXXX" or "9XXXXXXXXX" of a mobile range → "+79XXXXXXXXX";
 * anything else null (the caller asks the library).
 */
function fastMobile(digits: string): string | null {
  const plus = digits.charCodeAt(0) === 43;
  const d = plus ? digits.slice(1) : digits;
  let national: string;
  if (d.length === 10) {
    if (plus) return null;
    national = d;
  } else {
    const lead = d.charCodeAt(0);
    if (!(lead === 55 || (lead === 56 && !plus))) return null;
    national = d.slice(1);
  }
  return RU_MOBILE.test(national) ? `+7${national}` : null;
}

/** A cell value as text, or null for values that cannot be a phone (objects, NaN, fractions). */
function cellText(raw: unknown): string | null {
  if (raw === null || raw === undefined) return '';
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || !Number.isInteger(raw) || raw < 0) return null;
    // Integers up to 2^53 print exactly; toFixed avoids the exponent String() uses from 1e21.
    return raw.toFixed(0);
  }
  if (typeof raw === 'bigint') return raw.toString();
  return null;
}

/**
 * Expands "8.9123456789E10" to its digits when the text still holds all of them; returns null when
 * Excel has rounded them away ("7,91235E+11" has 6 significant digits, a phone needs 10 or 11).
 */
function expandScientific(match: RegExpExecArray): string | null {
  const whole = match[2] ?? '';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const exponent = Number(match[4]);
  const significant = (whole + fraction).replace(/^0+/, '');
  if (significant.length < 10 || fraction.length > exponent) return null;
  return (match[1] === '+' ? '+' : '') + whole + fraction + '0'.repeat(exponent - fraction.length);
}
