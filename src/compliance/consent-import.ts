import { ru } from '../i18n/ru.js';
import { parseConsentCell } from './consent.js';

/** A consent read from a list's column, ready for the register. */
export interface ImportedConsent {
  phone: string;
  at: Date;
  source: string;
  document: string;
}

export interface ConsentColumnResult {
  consents: ImportedConsent[];
  /** Rows whose cell could not be read: the upload is refused with them (a misread consent is worse than none). */
  errors: Array<{ row: number; value: string; error: string }>;
}

/**
 * Reads a consent column of an uploaded list (pure): «да»/a date → consent given (at the date in
 * the cell, else `now`), «нет»/empty → none. The source is given for the whole file; the document
 * names the file and the row, so each entry can be traced back to its evidence.
 */
export function readConsentColumn(
  contacts: ReadonlyArray<{ rowNumber: number; phone: string; fields: Record<string, string> }>,
  column: string,
  source: string,
  fileName: string,
  now: Date,
): ConsentColumnResult {
  const consents: ImportedConsent[] = [];
  const errors: ConsentColumnResult['errors'] = [];
  for (const contact of contacts) {
    const value = contact.fields[column] ?? '';
    const cell = parseConsentCell(value, now);
    if (!cell.ok) errors.push({ row: contact.rowNumber, value, error: cell.error });
    else if (cell.given) consents.push({ phone: contact.phone, at: cell.at ?? now, source, document: ru.compliance.consentDocument(fileName, contact.rowNumber) });
  }
  return { consents, errors };
}
