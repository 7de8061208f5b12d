import { buildImport, detectPhoneColumn, type ContactStream, type ImportedContact, type ImportResult } from './import.js';
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
export function prepareImport(data: Uint8Array, fileName: string, options: PrepareOptions | string = {}, stream?: ContactStream): PreparedImport {
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
  return { kind: 'ok', phoneColumn, result: buildImport(sheet, phoneColumn, stream), ...choice };
}

/**
 * Contacts as they cross from the worker thread: three strings and a typed array instead of one
 * object per row. Structured cloning 100 000 objects (and their field objects) costs the main
 * thread about as much as storing them; strings cross nearly for free, and the fields arrive as the
 * JSON the database stores.
 */
export interface PackedContacts {
  count: number;
  rowNumbers: Int32Array;
  /** E.164 numbers joined by "\n". */
  phones: string;
  /** Each row's fields as JSON, joined by "\n" (JSON text never holds a raw line feed). */
  fields: string;
}

/** What the worker posts: a {@link PreparedImport} whose contacts are packed. */
export type PreparedTransfer = Exclude<PreparedImport, { kind: 'ok' }> | (Omit<Extract<PreparedImport, { kind: 'ok' }>, 'result'> & { result: Omit<ImportResult, 'contacts'> & { packed: PackedContacts } });

/**
 * The prepared import as it crosses threads. `streamed`: its contacts already crossed in chunks
 * ({@link packContacts}), so none are packed again.
 */
export function packPrepared(prepared: PreparedImport, streamed = false): PreparedTransfer {
  if (prepared.kind !== 'ok') return prepared;
  const { contacts, ...rest } = prepared.result;
  return { ...prepared, result: { ...rest, packed: packContacts(streamed ? [] : contacts) } };
}

export function packContacts(contacts: readonly ImportedContact[]): PackedContacts {
  const rowNumbers = new Int32Array(contacts.length);
  const phones = new Array<string>(contacts.length);
  const fields = new Array<string>(contacts.length);
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    rowNumbers[i] = c.rowNumber;
    phones[i] = c.phone;
    fields[i] = JSON.stringify(c.fields);
  }
  return { count: contacts.length, rowNumbers, phones: phones.join('\n'), fields: fields.join('\n') };
}

/** The contacts back as objects; `fields` is parsed only if someone reads it (consents do). */
export function unpackPrepared(transfer: PreparedTransfer): PreparedImport {
  if (transfer.kind !== 'ok') return transfer;
  const { packed, ...rest } = transfer.result;
  return { ...transfer, result: { ...rest, contacts: unpackContacts(packed) } };
}

export function unpackContacts(packed: PackedContacts): ImportedContact[] {
  if (packed.count === 0) return [];
  const phones = packed.phones.split('\n');
  const fields = packed.fields.split('\n');
  const contacts = new Array<ImportedContact>(packed.count);
  for (let i = 0; i < packed.count; i++) contacts[i] = new PackedContact(packed.rowNumbers[i]!, phones[i]!, fields[i]!);
  return contacts;
}

class PackedContact implements ImportedContact {
  private parsed: Record<string, string> | undefined;
  constructor(
    readonly rowNumber: number,
    readonly phone: string,
    readonly fieldsJson: string,
  ) {}
  get fields(): Record<string, string> {
    return (this.parsed ??= JSON.parse(this.fieldsJson) as Record<string, string>);
  }
}
