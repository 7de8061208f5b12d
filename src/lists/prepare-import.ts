import { buildImport, detectPhoneColumn, type ImportResult } from './import.js';
import { readSheet, SheetError, type SheetErrorCode } from './sheet.js';

/** Everything an upload needs before it touches the database; plain data, so it can cross threads. */
export type PreparedImport =
  | { kind: 'ok'; columns: string[]; phoneColumn: string; result: ImportResult }
  | { kind: 'bad-file'; code: SheetErrorCode; message: string }
  | { kind: 'no-phone-column'; columns: string[] }
  | { kind: 'unknown-phone-column'; column: string; columns: string[] };

/**
 * Reads the file, finds (or checks) the phone column and normalises every row. Pure: the same
 * bytes give the same answer, nothing is stored.
 */
export function prepareImport(data: Uint8Array, fileName: string, wantedColumn?: string): PreparedImport {
  let sheet;
  try {
    sheet = readSheet(Buffer.from(data.buffer, data.byteOffset, data.byteLength), fileName);
  } catch (error) {
    if (error instanceof SheetError) return { kind: 'bad-file', code: error.code, message: error.message };
    throw error;
  }
  const wanted = wantedColumn?.trim();
  const phoneColumn = wanted ? wanted : detectPhoneColumn(sheet);
  if (!phoneColumn) return { kind: 'no-phone-column', columns: sheet.columns };
  if (!sheet.columns.includes(phoneColumn)) return { kind: 'unknown-phone-column', column: phoneColumn, columns: sheet.columns };
  return { kind: 'ok', columns: sheet.columns, phoneColumn, result: buildImport(sheet, phoneColumn) };
}
