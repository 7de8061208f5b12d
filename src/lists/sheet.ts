import * as XLSX from 'xlsx';
import * as cptable from 'xlsx/dist/cpexcel.full.mjs';
import { ru } from '../i18n/ru.js';

// Legacy .xls (BIFF5) and some .ods/.xls files carry text in Windows code pages; without the tables
// SheetJS garbles Cyrillic (measured: see the README figures). Registering is idempotent and cheap.
XLSX.set_cptable(cptable);
// The bundled typings declare only a default export, but the ESM build exports `utils` by name.
const codepages = cptable as unknown as { utils: { decode(cp: number, data: Uint8Array): string } };

/**
 * One sheet of an uploaded file, as text.
 * `rows` holds the data rows (the header row, what is above it and fully empty rows are left out),
 * every row padded to `columns.length`. `rowNumbers[i]` is the spreadsheet row number of `rows[i]`
 * as Excel shows it (with the header on row 1 and no empty rows, `rows[i]` is row `i + 2`).
 */
export interface SheetData {
  columns: string[];
  rows: string[][];
  /** Spreadsheet row number of each entry of `rows`; absent means `i + 2` (no gaps). */
  rowNumbers?: number[];
  /** The sheet read (workbooks only). */
  sheet?: string | undefined;
  /** Every sheet of the workbook in order; empty for CSV/TXT. */
  sheets?: string[];
  /** Spreadsheet row number (1-based) of the header row that was taken. */
  headerRow?: number;
  /** What staff should know about how the file was read (merged cells filled in…), by row. */
  notes?: SheetNote[];
}

/** A remark on one row of the file (Russian text for the import report). */
export interface SheetNote {
  row: number;
  kind: 'merged' | 'hidden';
  text: string;
}

/** Why a file could not be read. The message is Russian and tells staff what to do. */
export type SheetErrorCode =
  | 'unsupported-type'
  | 'empty-file'
  | 'no-header'
  | 'no-rows'
  | 'unreadable'
  | 'encrypted'
  | 'too-many-rows'
  /** A workbook (zip) that inflates beyond what one upload may take (a "zip bomb"). */
  | 'too-large'
  /** buildImport() was given a phone column the sheet does not have. */
  | 'unknown-column'
  /** A cell longer than {@link MAX_CELL_CHARS}. */
  | 'cell-too-long'
  /** The parse worker ran out of its time box. */
  | 'too-slow'
  /** The sheet asked for is not in the workbook. */
  | 'unknown-sheet'
  /** The sheet asked for has no filled cell. */
  | 'empty-sheet'
  /** The header row asked for is empty or outside the table. */
  | 'bad-header-row'
  /** Bigger than the administrator's limit (settings). */
  | 'file-too-large';

/** A file that cannot become a list. `message` is for people (Russian); `code` is for code. */
export class SheetError extends Error {
  override readonly name = 'SheetError';
  constructor(
    readonly code: SheetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link readSheet}. */
export interface ReadSheetOptions {
  /** Most data rows accepted; more is a `too-many-rows` error. Default {@link DEFAULT_MAX_ROWS}. */
  maxRows?: number | undefined;
  /** The sheet to read (workbooks); absent: the first sheet with phone numbers is proposed. */
  sheet?: string | undefined;
  /** Spreadsheet row number (1-based) of the header; absent: found by {@link findHeaderRow}. */
  headerRow?: number | undefined;
}

/**
 * Longest cell accepted. An SMS is at most a few hundred characters, so a longer cell is a broken
 * or hostile file; refusing it here also bounds the work every later step does per cell (one
 * 3-million-digit cell once kept a core busy for two minutes in the phone parser).
 */
export const MAX_CELL_CHARS = 5000;

/** Default limit of data rows in one upload. */
export const DEFAULT_MAX_ROWS = 200_000;

/** Rows above the header (titles, notes) tolerated on top of `maxRows` before reading stops. */
const ROWS_ABOVE_HEADER = 1000;

const WORKBOOK_TYPES = new Set(['xlsx', 'xlsm', 'xlsb', 'xls', 'ods']);
const TEXT_TYPES = new Set(['csv', 'txt']);
const ZIP_TYPES = new Set(['xlsx', 'xlsm', 'xlsb', 'ods']);

/**
 * Reads the first sheet of an .xlsx/.xlsm/.xlsb/.xls/.ods or .csv file into text cells.
 *
 * CSV is read by our own parser, not SheetJS, so that every cell stays the exact text of the file
 * (no "007" → 7, no phone → float) and so that the encoding (UTF-8 with or without BOM, UTF-16 with
 * BOM, else Windows-1251 as Russian Excel writes) and the separator (`;`, `,` or tab; Excel's
 * `sep=` line) are decided by us. Workbook cells are converted by {@link cellToText}: numbers stay
 * full digits (never "7.91235E+11"), dates become DD.MM.YYYY.
 *
 * @throws SheetError for anything a person has to fix (type, empty, no header, no rows, corrupt,
 *   password, too many rows).
 */
export function readSheet(data: Buffer, fileName: string, options: ReadSheetOptions = {}): SheetData {
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const extension = /\.([^./\\]+)$/.exec(fileName.trim())?.[1]?.toLowerCase() ?? '';
  if (!WORKBOOK_TYPES.has(extension) && !TEXT_TYPES.has(extension)) {
    throw new SheetError('unsupported-type', ru.lists.sheet.unsupportedType(fileName));
  }
  if (data.length === 0) throw new SheetError('empty-file', ru.lists.sheet.emptyFile);

  const magic = sniff(data);
  // Trust the bytes over the name: a workbook renamed to .csv, or a CSV/HTML export named .xls
  // (1C and many web shops do this), is still read as what it is.
  let grids: NamedGrid[];
  if (magic === 'zip' && (zipUnpackedBytes(data) ?? 0) > MAX_UNPACKED_BYTES) throw new SheetError('too-large', ru.lists.sheet.tooLargeUnpacked(fileName));
  if (magic === 'zip' || magic === 'ole' || magic === 'markup') grids = readWorkbook(data, fileName, maxRows + ROWS_ABOVE_HEADER);
  // Text named .xlsx/.ods is not a workbook saved wrongly by an export (those are .xls): refuse it.
  else if (magic === 'text' && !ZIP_TYPES.has(extension)) grids = [{ name: undefined, ...readCsv(data) }];
  else throw new SheetError('unreadable', ru.lists.sheet.unreadable(fileName));

  const sheets = grids.flatMap((g) => (g.name === undefined ? [] : [g.name]));
  let chosen: NamedGrid | undefined;
  if (options.sheet !== undefined && options.sheet.trim() !== '' && magic !== 'text') {
    chosen = grids.find((g) => g.name === options.sheet) ?? grids.find((g) => g.name?.trim().toLocaleLowerCase('ru-RU') === options.sheet!.trim().toLocaleLowerCase('ru-RU'));
    if (!chosen) throw new SheetError('unknown-sheet', ru.listFiles.unknownSheet(options.sheet, sheets));
    if (!chosen.rows.some((row) => !isEmptyRow(row))) throw new SheetError('empty-sheet', ru.listFiles.emptySheet(chosen.name ?? '', sheets));
  } else {
    chosen = proposeSheet(grids);
  }
  if (!chosen) throw new SheetError('empty-file', ru.lists.sheet.emptyFile);

  let headerIndex: number;
  if (options.headerRow !== undefined) {
    headerIndex = chosen.rowNumbers.indexOf(options.headerRow);
    if (headerIndex < 0 || isEmptyRow(chosen.rows[headerIndex]!)) throw new SheetError('bad-header-row', ru.listFiles.badHeaderRow(options.headerRow));
  } else {
    headerIndex = findHeaderRow(chosen.rows);
    if (headerIndex < 0) throw new SheetError('empty-file', ru.lists.sheet.emptyFile);
    // A header of numbers only is a data row: the file was saved without column names.
    const filled = chosen.rows[headerIndex]!.filter((c) => c !== '');
    if (filled.length > 0 && filled.every((c) => /^[+\d\s()\-.,]+$/.test(c) && /\d/.test(c))) throw new SheetError('no-header', ru.lists.sheet.noHeader);
  }
  return { ...toSheetData(chosen, headerIndex, maxRows), sheet: chosen.name, sheets };
}

/** A sheet's rows before the header is picked; `name` is undefined for CSV/TXT. */
interface NamedGrid extends RawGrid {
  name: string | undefined;
}

function isEmptyRow(row: readonly string[]): boolean {
  for (const cell of row) if (cell !== '') return false;
  return true;
}

/** The first sheet that has phone numbers under a header; failing that the first non-empty sheet. */
function proposeSheet(grids: readonly NamedGrid[]): NamedGrid | undefined {
  if (grids.length === 1) return grids[0]!.rows.some((r) => !isEmptyRow(r)) ? grids[0] : undefined;
  return grids.find((g) => findDataStart(g.rows) !== null) ?? grids.find((g) => g.rows.some((r) => !isEmptyRow(r)));
}

// ---------------------------------------------------------------------------------------------
// Finding the header row (pure)

/** Rows looked at when searching where the data starts: titles and notes are never this long. */
const HEADER_SEARCH_ROWS = 200;
/** Rows below a candidate first data row that must mostly hold phones too. */
const DATA_SAMPLE_ROWS = 10;

const DATE_LIKE = /^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(\s|$)/;

/**
 * Whether a cell looks like it holds a phone number: 10 to 30 digits that make most of its visible
 * characters, and not a date. Cheap on purpose: it only decides where the table starts; the real
 * check is the phone parser's, later.
 */
export function looksLikePhone(cell: string): boolean {
  if (cell.length < 10 || cell.length > 120) return false;
  let digits = 0;
  let visible = 0;
  for (let i = 0; i < cell.length; i++) {
    const code = cell.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
    if (code > 32 && code !== 0xa0) visible++;
  }
  if (digits < 10 || digits > 30 || digits * 2 < visible) return false;
  return !DATE_LIKE.test(cell);
}

const HAS_LETTER = /\p{L}/u;

/**
 * Where the data starts: the first non-empty row with a phone-like cell such that at least half of
 * the next rows have one too, and the column that holds them. Null when no such row exists.
 */
export function findDataStart(rows: readonly (readonly string[])[]): { index: number; column: number } | null {
  let seen = 0;
  for (let i = 0; i < rows.length && seen < HEADER_SEARCH_ROWS; i++) {
    const row = rows[i]!;
    if (isEmptyRow(row)) continue;
    seen++;
    if (!row.some(looksLikePhone)) continue;
    const perColumn = new Map<number, number>();
    let sampled = 0;
    let withPhone = 0;
    for (let j = i; j < rows.length && sampled < DATA_SAMPLE_ROWS; j++) {
      const next = rows[j]!;
      if (isEmptyRow(next)) continue;
      sampled++;
      let any = false;
      for (let c = 0; c < next.length; c++) {
        if (looksLikePhone(next[c]!)) {
          any = true;
          perColumn.set(c, (perColumn.get(c) ?? 0) + 1);
        }
      }
      if (any) withPhone++;
    }
    if (withPhone * 2 < sampled) continue;
    let column = 0;
    let best = -1;
    for (const [c, n] of perColumn) if (n > best) [column, best] = [c, n];
    return { index: i, column };
  }
  return null;
}

/**
 * The index (in `rows`) of the header row: the row of column names above the rows with phone
 * numbers. Title rows («Выгрузка контрагентов на 01.12.2026»), empty rows and notes above the table
 * are passed over. Looking up from the first data row: the nearest row that names the phone column
 * (a word over it); else the nearest row of two or more names and no phone; else — no phones at all
 * or no such row — the first non-empty row, as before. -1 when every row is empty.
 */
export function findHeaderRow(rows: readonly (readonly string[])[]): number {
  const first = rows.findIndex((row) => !isEmptyRow(row));
  if (first < 0) return -1;
  const start = findDataStart(rows);
  if (!start || start.index === first) return first;
  const names = (row: readonly string[]) => {
    let filled = 0;
    for (const cell of row) {
      if (cell === '') continue;
      if (looksLikePhone(cell)) return -1;
      filled++;
    }
    return filled;
  };
  for (let i = start.index - 1; i >= first; i--) {
    const over = rows[i]![start.column] ?? '';
    if (over !== '' && HAS_LETTER.test(over) && names(rows[i]!) >= 1) return i;
  }
  for (let i = start.index - 1; i >= first; i--) {
    if (names(rows[i]!) >= 2 && rows[i]!.some((c) => HAS_LETTER.test(c))) return i;
  }
  return first;
}

/** Rows of trimmed cell text with their spreadsheet row numbers, before the header is picked. */
interface RawGrid {
  rows: string[][];
  rowNumbers: number[];
  /** Merged ranges (0-based spreadsheet rows and columns), as the workbook declares them. */
  merges?: XLSX.Range[];
  /** Spreadsheet row numbers (1-based) hidden in Excel, ascending. */
  hidden?: number[];
}

function sniff(data: Buffer): 'zip' | 'ole' | 'markup' | 'text' | 'binary' {
  if (data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04) return 'zip';
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))) return 'ole';
  const head = data.subarray(0, 512);
  // UTF-16 text (with BOM) is text even though it is full of NUL bytes.
  if (head[0] === 0xff && head[1] === 0xfe) return 'text';
  if (head.includes(0)) return 'binary';
  // PDF, RTF, PostScript: text-like bytes, never a table.
  if (/^(%PDF|\{\\rtf|%!PS)/.test(head.toString('latin1', 0, 8))) return 'binary';
  const start = head.toString('latin1').replace(/^\uFEFF|^\xef\xbb\xbf/, '').trimStart().slice(0, 64).toLowerCase();
  if (start.startsWith('<?xml') || start.startsWith('<html') || start.startsWith('<!doctype html') || start.startsWith('<table')) return 'markup';
  return 'text';
}

// ---------------------------------------------------------------------------------------------
// Workbooks (SheetJS)

/**
 * What a workbook may inflate to. SheetJS inflates every part in memory before it reads a row:
 * a 1 MB .xlsx of ten million rows took the process to 2.9 GB and killed it. 200k real rows of a
 * few columns inflate to a few tens of MB.
 */
const MAX_UNPACKED_BYTES = 150 * 1024 * 1024;

/**
 * The sum of the uncompressed sizes the zip's central directory declares, read before inflating
 * anything: Infinity for ZIP64 (no spreadsheet of a sensible size needs it), null when there is
 * no readable directory (a damaged file: SheetJS then says it cannot read it).
 */
export function zipUnpackedBytes(data: Buffer): number | null {
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  const from = Math.max(0, data.length - 65_557);
  for (let eocd = data.length - 22; eocd >= from; eocd--) {
    if (data.readUInt32LE(eocd) !== 0x06054b50) continue;
    const entries = data.readUInt16LE(eocd + 10);
    let offset = data.readUInt32LE(eocd + 16);
    if (entries === 0xffff || offset === 0xffffffff) return Infinity;
    let total = 0;
    for (let i = 0; i < entries; i++) {
      if (offset + 46 > data.length || data.readUInt32LE(offset) !== 0x02014b50) return null;
      const size = data.readUInt32LE(offset + 24);
      if (size === 0xffffffff) return Infinity;
      total += size;
      offset += 46 + data.readUInt16LE(offset + 28) + data.readUInt16LE(offset + 30) + data.readUInt16LE(offset + 32);
    }
    return total;
  }
  return null;
}

function readWorkbook(data: Buffer, fileName: string, sheetRows: number): NamedGrid[] {
  let workbook: XLSX.WorkBook;
  try {
    workbook = XLSX.read(data, {
      type: 'buffer',
      dense: true, // ~20% faster and leaner on 100k rows (measured: see the README figures)
      cellNF: true, // keep number formats: that is how a date is told from a number
      cellText: false, // no formatted text for every cell: cellToText formats the few that need it (~10% faster)
      cellStyles: true, // row properties: hidden rows are reported (costs nothing measurable on 100k rows)
      cellDates: false,
      raw: true, // HTML/text inside an .xls: keep cell text as written, do not guess numbers
      codepage: 1251, // legacy files without a code page are Russian ones here
      // Stop reading rows past the limit (+ titles above the header + one to notice it was exceeded).
      sheetRows: sheetRows + 2,
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/password/i.test(text)) throw new SheetError('encrypted', ru.lists.sheet.encrypted(fileName));
    throw new SheetError('unreadable', ru.lists.sheet.unreadable(fileName));
  }
  if (workbook.SheetNames.length === 0) throw new SheetError('empty-file', ru.lists.sheet.emptyFile);
  return workbook.SheetNames.map((name) => ({ name, ...gridOf(workbook.Sheets[name]) }));
}

function gridOf(sheet: XLSX.WorkSheet | undefined): RawGrid {
  const rows: string[][] = [];
  const rowNumbers: number[] = [];
  if (!sheet) return { rows, rowNumbers };
  const dense = (sheet as { '!data'?: Array<Array<XLSX.CellObject | undefined> | undefined> })['!data'];
  if (dense) {
    for (let r = 0; r < dense.length; r++) {
      const cells = dense[r];
      if (!cells) continue;
      const row: string[] = new Array<string>(cells.length);
      for (let c = 0; c < cells.length; c++) row[c] = cellToText(cells[c]);
      rows.push(row);
      rowNumbers.push(r + 1);
    }
  } else if (sheet['!ref']) {
    // Not expected with dense:true, but some readers ignore it: walk the sparse sheet instead.
    const range = XLSX.utils.decode_range(sheet['!ref']);
    for (let r = range.s.r; r <= range.e.r; r++) {
      const row: string[] = [];
      for (let c = 0; c <= range.e.c; c++) row.push(cellToText(sheet[XLSX.utils.encode_cell({ r, c })] as XLSX.CellObject | undefined));
      rows.push(row);
      rowNumbers.push(r + 1);
    }
  }
  const grid: RawGrid = { rows, rowNumbers };
  const merges = sheet['!merges'];
  if (merges && merges.length > 0) grid.merges = merges;
  const props = sheet['!rows'];
  if (props) {
    const hidden: number[] = [];
    props.forEach((p, r) => {
      if (p?.hidden) hidden.push(r + 1);
    });
    if (hidden.length > 0) grid.hidden = hidden;
  }
  return grid;
}

/**
 * One workbook cell as the text that goes into an SMS.
 * Integers print as all their digits (phones stored as numbers, order numbers); fractions use the
 * Russian decimal comma ("1500,5"); dates print as DD.MM.YYYY (with HH:MM when there is a time)
 * whatever the file's locale; percentages keep Excel's display text.
 */
export function cellToText(cell: XLSX.CellObject | undefined): string {
  if (!cell) return '';
  switch (cell.t) {
    case 's':
      return normaliseText(String(cell.v ?? ''));
    case 'n': {
      const value = cell.v as number;
      if (typeof value !== 'number' || !Number.isFinite(value)) return normaliseText(cell.w ?? '');
      const format = typeof cell.z === 'string' ? cell.z : '';
      if (format && format !== 'General' && XLSX.SSF.is_date(format)) return formatSerialDate(value);
      if (format.includes('%')) return normaliseText(cell.w ?? XLSX.SSF.format(format, value));
      return formatNumber(value);
    }
    case 'd':
      return cell.v instanceof Date ? formatJsDate(cell.v) : normaliseText(String(cell.v ?? ''));
    case 'b':
      // What Russian Excel shows for TRUE/FALSE.
      return cell.v ? 'ИСТИНА' : 'ЛОЖЬ';
    case 'e':
      return normaliseText(cell.w ?? XLSX.utils.format_cell(cell));
    default:
      return '';
  }
}

function formatNumber(value: number): string {
  // Whole numbers up to 1e21 print exactly with toFixed(0); String() would switch to "7.9e+21".
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value.toFixed(0);
  // 15 significant digits is what Excel itself keeps; it hides binary noise like 0.30000000000000004.
  const text = String(Number(value.toPrecision(15)));
  return text.includes('e') ? text : text.replace('.', ',');
}

function formatSerialDate(serial: number): string {
  const parts = XLSX.SSF.parse_date_code(serial);
  if (!parts) return formatNumber(serial);
  const time = `${pad(parts.H)}:${pad(parts.M)}${parts.S ? `:${pad(parts.S)}` : ''}`;
  if (serial >= 0 && serial < 1) return time; // a time of day without a date
  const date = `${pad(parts.d)}.${pad(parts.m)}.${parts.y}`;
  return parts.H || parts.M || parts.S ? `${date} ${time}` : date;
}

function formatJsDate(date: Date): string {
  const day = `${pad(date.getUTCDate())}.${pad(date.getUTCMonth() + 1)}.${date.getUTCFullYear()}`;
  const h = date.getUTCHours();
  const m = date.getUTCMinutes();
  return h || m ? `${day} ${pad(h)}:${pad(m)}` : day;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Trims a cell and turns Windows line breaks inside it (Alt+Enter) into plain LF. */
function normaliseText(text: string): string {
  // Control characters (NUL, backspace, …) are never meant in a list, PostgreSQL refuses NUL, and
  // no control character may reach an AMI header: they go here, line breaks and tabs stay.
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
}

// ---------------------------------------------------------------------------------------------
// CSV

function readCsv(data: Buffer): RawGrid {
  const text = decodeText(data);
  const lines = text.split(/\r\n|\n|\r/, 20);
  let body = text;
  let separator: string;
  // Excel writes and honours a first line "sep=;" that it does not show as a row.
  const sepLine = /^sep=(.)$/i.exec(lines[0] ?? '');
  if (sepLine?.[1]) {
    separator = sepLine[1];
    body = text.slice((lines[0] ?? '').length).replace(/^(\r\n|\n|\r)/, '');
  } else {
    separator = detectSeparator(lines);
  }
  const rows = parseCsv(body, separator);
  // One CSV record is one Excel row, even when a quoted cell spans several lines.
  return { rows, rowNumbers: rows.map((_, i) => i + 1) };
}

/**
 * Decodes CSV bytes: a BOM decides (UTF-8, UTF-16LE/BE); otherwise text that is valid UTF-8 is
 * UTF-8, and anything else is Windows-1251, which is what Russian Excel writes for "CSV (разделители
 * — точка с запятой)". Valid UTF-8 that is really cp1251 is practically impossible for Russian
 * text: cp1251 letters are bytes ≥ 0xC0 that UTF-8 only allows before continuation bytes.
 */
function decodeText(data: Buffer): string {
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) return data.subarray(3).toString('utf8');
  if (data[0] === 0xff && data[1] === 0xfe) return data.subarray(2).toString('utf16le');
  if (data[0] === 0xfe && data[1] === 0xff) {
    const swapped = Buffer.from(data.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    // cptable is always there (TextDecoder's windows-1251 needs a Node built with full ICU).
    return codepages.utils.decode(1251, data);
  }
}

/**
 * Picks the separator: the one that splits the most of the first lines into the same number of
 * cells (a table has a steady width; a title line or decimal commas do not). `;` wins ties: that
 * is Excel's Russian default and a comma is more likely to be text.
 */
export function detectSeparator(lines: readonly string[]): string {
  const candidates = [';', '\t', ','] as const;
  const count = (line: string, sep: string) => {
    let n = 0;
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (!quoted && ch === sep) n++;
    }
    return n;
  };
  const sample = lines.filter((l) => l.trim() !== '');
  let best = ';';
  let bestScore = 0;
  for (const sep of candidates) {
    const counts = new Map<number, number>();
    for (const line of sample) {
      const n = count(line, sep);
      if (n > 0) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    // Lines agreeing on the most common width, then how wide: 5 lines of 6 cells beat 5 of 2.
    let score = 0;
    for (const [n, lines] of counts) score = Math.max(score, lines * 1000 + n);
    if (score > bestScore) [best, bestScore] = [sep, score];
  }
  return best;
}

/** RFC 4180 parser: quoted cells may hold separators, `""` and line breaks; CRLF, LF or CR ends a row. */
function parseCsv(text: string, separator: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell.trim() === '') {
      // A quote opens a quoted cell only at its start (leading spaces allowed); elsewhere it is text.
      cell = '';
      quoted = true;
    } else if (ch === separator) {
      row.push(normaliseText(cell));
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(normaliseText(cell));
      rows.push(row);
      row = [];
      cell = '';
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else {
      cell += ch;
    }
    i++;
  }
  if (cell !== '' || row.length > 0) {
    row.push(normaliseText(cell));
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Header, columns and rows

function toSheetData(grid: RawGrid, headerIndex: number, maxRows: number): SheetData {
  const header = grid.rows[headerIndex]!;
  const headerRow = grid.rowNumbers[headerIndex]!;
  const notes = grid.merges ? fillMerged(grid, headerRow) : [];
  if (grid.hidden) notes.push(...hiddenRowNotes(grid, headerRow));

  // Width: the last column that has anything in it, in the header or below.
  let width = 0;
  for (let r = headerIndex; r < grid.rows.length; r++) {
    const row = grid.rows[r]!;
    for (let c = row.length - 1; c >= width; c--) {
      if (row[c] !== '') {
        width = c + 1;
        break;
      }
    }
  }

  const columns = nameColumns(header, width);
  const tooLong = (cell: string | undefined) => cell !== undefined && cell.length > MAX_CELL_CHARS;
  const headerCell = header.findIndex(tooLong);
  if (headerCell >= 0) {
    throw new SheetError('cell-too-long', ru.lists.sheet.cellTooLong(headerRow, ru.lists.sheet.unnamedColumn(headerCell + 1), MAX_CELL_CHARS));
  }
  const rows: string[][] = [];
  const rowNumbers: number[] = [];
  for (let r = headerIndex + 1; r < grid.rows.length; r++) {
    const source = grid.rows[r]!;
    if (isEmptyRow(source)) continue;
    if (rows.length >= maxRows) throw new SheetError('too-many-rows', ru.lists.sheet.tooManyRows(maxRows));
    // The row itself when it is already as wide as the table (the usual case): no copy.
    let row = source;
    if (source.length !== width) {
      row = new Array<string>(width);
      for (let c = 0; c < width; c++) row[c] = source[c] ?? '';
    }
    for (let c = 0; c < width; c++) {
      if (row[c]!.length > MAX_CELL_CHARS) throw new SheetError('cell-too-long', ru.lists.sheet.cellTooLong(grid.rowNumbers[r]!, columns[c]!, MAX_CELL_CHARS));
    }
    rows.push(row);
    rowNumbers.push(grid.rowNumbers[r]!);
  }
  if (rows.length === 0) throw new SheetError('no-rows', ru.lists.sheet.noRows);
  return { columns, rows, rowNumbers, headerRow, notes };
}

/**
 * Rows hidden in Excel (by hand or by a filter) are read like the others — a list is what the file
 * holds — but staff may have hidden them to leave them out, so each run of them is noted.
 */
function hiddenRowNotes(grid: RawGrid, headerRow: number): SheetNote[] {
  const filled = new Set<number>();
  grid.rows.forEach((row, i) => {
    if (!isEmptyRow(row)) filled.add(grid.rowNumbers[i]!);
  });
  const rows = (grid.hidden ?? []).filter((r) => r > headerRow && filled.has(r));
  const notes: SheetNote[] = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
    notes.push({ row: rows[i]!, kind: 'hidden', text: ru.listFiles.hiddenRows(rows[i]!, rows[j]!) });
    i = j + 1;
  }
  return notes;
}

/**
 * Merged cells below the header: Excel keeps the value in the top-left cell only, so a client's
 * name merged over his three rows would reach two of them empty. Each merged cell gets the value,
 * and the report says so. Merges in and above the header (titles across the table) are left alone.
 */
function fillMerged(grid: RawGrid, headerRow: number): SheetNote[] {
  const notes: SheetNote[] = [];
  const indexOf = new Map<number, number>();
  grid.rowNumbers.forEach((n, i) => indexOf.set(n, i));
  for (const range of grid.merges ?? []) {
    const top = range.s.r + 1;
    if (top <= headerRow) continue;
    const source = grid.rows[indexOf.get(top) ?? -1]?.[range.s.c] ?? '';
    if (source === '') continue;
    for (let r = range.s.r; r <= range.e.r; r++) {
      const i = indexOf.get(r + 1);
      if (i === undefined) continue;
      const row = grid.rows[i]!;
      for (let c = range.s.c; c <= range.e.c; c++) {
        while (row.length <= c) row.push('');
        row[c] = source;
      }
    }
    const last = range.e.r + 1;
    notes.push({ row: top, kind: 'merged', text: ru.listFiles.mergedFilled(top, last, XLSX.utils.encode_col(range.s.c)) });
  }
  return notes;
}

/**
 * Header names as staff typed them (trimmed, inner whitespace collapsed so that "Номер  заказа" and
 * a template's "Номер заказа" meet); an empty header becomes "Столбец N" (N as in Excel, from 1);
 * a repeated name becomes "Имя (2)", "Имя (3)"… so that every column can be named in a template.
 */
function nameColumns(header: readonly string[], width: number): string[] {
  const names: string[] = [];
  const used = new Set<string>();
  // Case-insensitive, so "Имя" and "имя" do not both exist (templates match names leniently).
  const key = (s: string) => s.toLocaleLowerCase('ru-RU');
  for (let c = 0; c < width; c++) {
    const raw = (header[c] ?? '').replace(/\s+/g, ' ').trim();
    let name = raw === '' ? ru.lists.sheet.unnamedColumn(c + 1) : raw;
    if (used.has(key(name))) {
      let n = 2;
      while (used.has(key(ru.lists.sheet.duplicateColumn(name, n)))) n++;
      name = ru.lists.sheet.duplicateColumn(name, n);
    }
    used.add(key(name));
    names.push(name);
  }
  return names;
}
