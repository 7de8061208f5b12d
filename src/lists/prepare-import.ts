import { buildImport, detectPhoneColumn, type ImportResult } from './import.js';
import { readSheet, SheetError, type SheetErrorCode } from './sheet.js';

/** How to read an upload; anything absent is decided from the file. */
export interface PrepareOptions {
  /** Column holding the phone numbers; detected when absent. */
  phoneColumn?: string | undefined;
  /** Sheet of a workbook; the one with phone numbers is proposed when absent. */
  sheet?: string | undefined;
  /** Spreadsheet row number (1-based) of the header; found when absent. */
  headerRow?: number | undefined;
  /** Most data rows (the administrator's limit). */
  maxRows?: number | undefined;
  /** Taken when no `phoneColumn` is given and the sheet has it (a re-read keeps the list's column). */
  preferPhoneColumn?: string | undefined;
}

/** Which sheet and header row were taken: the page shows them and lets staff pick others. */
export interface SheetChoice {
  sheet: string | null;
  sheets: string[];
  headerRow: number;
  columns: string[];
}

/** Everything an upload needs before it touches the database; plain data, so it can cross threads. */
export type PreparedImport =
  | ({ kind: 'ok'; phoneColumn: string; result: ImportResult } & SheetChoice)
  | { kind: 'bad-file'; code: SheetErrorCode; message: string }
  | ({ kind: 'no-phone-column' } & SheetChoice)
  | ({ kind: 'unknown-phone-column'; column: string } & SheetChoice);

/**
 * Reads the file, finds (or checks) the sheet, header row and phone column and normalises every
 * row. Pure: the same bytes and options give the same answer, nothing is stored.
 */
export function prepareImport(data: Uint8Array, fileName: string, options: PrepareOptions | string = {}): PreparedImport {
  // A bare string is the phone column (the stop-list upload calls it so).
  const opts: PrepareOptions = typeof options === 'string' ? { phoneColumn: options } : options;
  let sheet;
  try {
    sheet = readSheet(Buffer.from(data.buffer, data.byteOffset, data.byteLength), fileName, { maxRows: opts.maxRows, sheet: opts.sheet, headerRow: opts.headerRow });
  } catch (error) {
    if (error instanceof SheetError) return { kind: 'bad-file', code: error.code, message: error.message };
    throw error;
  }
  const choice: SheetChoice = { sheet: sheet.sheet ?? null, sheets: sheet.sheets ?? [], headerRow: sheet.headerRow ?? 1, columns: sheet.columns };
  const wanted = opts.phoneColumn?.trim();
  const preferred = opts.preferPhoneColumn !== undefined && sheet.columns.includes(opts.preferPhoneColumn) ? opts.preferPhoneColumn : null;
  const phoneColumn = wanted ? wanted : (preferred ?? detectPhoneColumn(sheet));
  if (!phoneColumn) return { kind: 'no-phone-column', ...choice };
  if (!sheet.columns.includes(phoneColumn)) return { kind: 'unknown-phone-column', column: phoneColumn, ...choice };
  return { kind: 'ok', phoneColumn, result: buildImport(sheet, phoneColumn), ...choice };
}
