import { ru } from '../i18n/ru.js';
import { normalisePhoneCell, phoneRejectionText, type PhoneRejection } from './phone.js';
import { SheetError, type SheetData } from './sheet.js';

/** One recipient taken from the file. `fields` holds every column by header, the phone's original text included. */
export interface ImportedContact {
  /** Spreadsheet row number (as Excel shows it). */
  rowNumber: number;
  /** E.164, `+7XXXXXXXXXX`. */
  phone: string;
  fields: Record<string, string>;
  /** `fields` as JSON, when the contact crossed from the parse worker packed ({@link unpackContacts}). */
  fieldsJson?: string | undefined;
}

/** A row not taken, with the cell's text and the Russian reason (what is wrong, what to do). */
export interface RejectedRow {
  row: number;
  value: string;
  reason: string;
  /** Machine-readable reason, for counting by kind. */
  code: PhoneRejection;
}

/** A row whose number already appeared at `firstRow`; it was merged into that first row. */
export interface DuplicateRow {
  row: number;
  phone: string;
  firstRow: number;
}

/**
 * Something staff should know about a row that was read (it is not an error): the other numbers
 * of a cell that held several (`value` is the cell), merged cells filled in and rows hidden in
 * Excel (`value` empty).
 */
export interface ImportNote {
  row: number;
  kind: 'other-phones' | 'merged' | 'hidden';
  value: string;
  text: string;
}

/** What an import makes of a sheet: rows taken, rejected, merged as duplicates, and notes. */
export interface ImportResult {
  contacts: ImportedContact[];
  rejected: RejectedRow[];
  duplicates: DuplicateRow[];
  notes: ImportNote[];
}

// Header words for a phone column, on fieldKey-like lowercased names. "Номер" alone is weaker:
// "Номер заказа" / "Номер договора" are not phones, so those need the content to agree.
// (JS \b knows only ASCII letters, hence the explicit look-arounds for Cyrillic words.)
const STRONG_HEADER = /телефон|(?<![а-я])тел(?![а-я])|phone|mobile|(?<![а-я])моб|сотов|msisdn|whatsapp|вацап|ватсап/u;
const WEAK_HEADER = /номер|number|^no\b|^№/u;
const NOT_PHONE_HEADER = /заказ|договор|сч[её]т|накладн|документ|паспорт|карт|order|invoice|\bid\b|(?<![а-я])инн|снилс|индекс/u;
// Enough rows to judge a column, cheap even on 200k-row files.
const SAMPLE_ROWS = 500;
const MIN_CONTENT_SHARE = 0.5;

/**
 * Guesses the column holding phone numbers, or null when nothing looks like one.
 * A header that says phone (Телефон, Тел., Моб., Phone, Mobile…) wins, the best-filled one if there
 * are several. Otherwise a header saying "номер" counts only if its values are mostly mobile
 * numbers; failing that, the column where most values normalise to mobile numbers (at least half).
 */
export function detectPhoneColumn(sheet: SheetData): string | null {
  const sample = sheet.rows.slice(0, SAMPLE_ROWS);
  const shareOf = (index: number): number => {
    let filled = 0;
    let mobile = 0;
    for (const row of sample) {
      const value = row[index] ?? '';
      if (value === '') continue;
      filled++;
      if (normalisePhoneCell(value).ok) mobile++;
    }
    return filled === 0 ? 0 : mobile / filled;
  };

  const scored = sheet.columns.map((column, index) => {
    const header = column.toLocaleLowerCase('ru-RU').replaceAll('ё', 'е');
    const strong = STRONG_HEADER.test(header);
    const weak = !strong && WEAK_HEADER.test(header) && !NOT_PHONE_HEADER.test(header);
    return { column, index, strong, weak, share: -1 };
  });
  const share = (s: (typeof scored)[number]) => (s.share >= 0 ? s.share : (s.share = shareOf(s.index)));
  const best = (list: typeof scored) => list.reduce<(typeof scored)[number] | null>((a, b) => (a === null || share(b) > share(a) ? b : a), null);

  const strong = best(scored.filter((s) => s.strong));
  if (strong) return strong.column;
  const weak = best(scored.filter((s) => s.weak && share(s) >= MIN_CONTENT_SHARE));
  if (weak) return weak.column;
  const any = best(scored);
  return any && share(any) >= MIN_CONTENT_SHARE ? any.column : null;
}

/**
 * Contacts handed on while the rest of the sheet is still being read: the parse worker passes each
 * chunk to the main thread, which stores it while the worker normalises the next rows.
 */
export interface ContactStream {
  /** Contacts per chunk (the last one may be smaller). */
  size: number;
  /** Each contact is in exactly one chunk, in row order; the result still holds them all. */
  emit(contacts: ImportedContact[]): void;
}

/**
 * Normalises the phone column of every row and merges duplicates.
 * Rows whose number is empty or not a Russian mobile go to `rejected` with a Russian reason; a
 * number seen before goes to `duplicates` and the first row (with its fields) is kept.
 * @throws SheetError if `phoneColumn` is not one of the sheet's columns.
 */
export function buildImport(sheet: SheetData, phoneColumn: string, stream?: ContactStream): ImportResult {
  const phoneIndex = sheet.columns.indexOf(phoneColumn);
  if (phoneIndex < 0) throw new SheetError('unknown-column', ru.lists.sheet.unknownColumn(phoneColumn, sheet.columns));

  const contacts: ImportedContact[] = [];
  const rejected: RejectedRow[] = [];
  const duplicates: DuplicateRow[] = [];
  const notes: ImportNote[] = (sheet.notes ?? []).map((n) => ({ row: n.row, kind: n.kind, value: '', text: n.text }));
  const firstRowOf = new Map<string, number>();
  const columns = sheet.columns;
  // A column named "__proto__" must stay a column: plain assignment would set the prototype.
  const defineEach = columns.includes('__proto__');
  const fieldsOf = (row: readonly string[]): Record<string, string> => {
    const fields: Record<string, string> = {};
    for (let c = 0; c < columns.length; c++) {
      if (defineEach) Object.defineProperty(fields, columns[c]!, { value: row[c] ?? '', enumerable: true, writable: true, configurable: true });
      else fields[columns[c]!] = row[c] ?? '';
    }
    return fields;
  };

  for (let i = 0; i < sheet.rows.length; i++) {
    const row = sheet.rows[i]!;
    const rowNumber = sheet.rowNumbers?.[i] ?? i + 2;
    const value = row[phoneIndex] ?? '';
    const result = normalisePhoneCell(value);
    if (!result.ok) {
      rejected.push({ row: rowNumber, value, reason: phoneRejectionText(result.reason), code: result.reason });
      continue;
    }
    const firstRow = firstRowOf.get(result.phone);
    if (firstRow !== undefined) {
      duplicates.push({ row: rowNumber, phone: result.phone, firstRow });
      if (result.others.length > 0) notes.push({ row: rowNumber, kind: 'other-phones', value, text: ru.listFiles.secondPhone(result.phone, result.others) });
      continue;
    }
    firstRowOf.set(result.phone, rowNumber);
    if (result.others.length > 0) notes.push({ row: rowNumber, kind: 'other-phones', value, text: ru.listFiles.secondPhone(result.phone, result.others) });
    const fields = fieldsOf(row);
    contacts.push({ rowNumber, phone: result.phone, fields });
    if (stream && contacts.length % stream.size === 0) stream.emit(contacts.slice(contacts.length - stream.size));
  }
  if (stream && contacts.length % stream.size !== 0) stream.emit(contacts.slice(contacts.length - (contacts.length % stream.size)));
  notes.sort((a, b) => a.row - b.row);
  return { contacts, rejected, duplicates, notes };
}
