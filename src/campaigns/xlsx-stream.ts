import { once } from 'node:events';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A one-sheet .xlsx written as it goes: a ZIP whose entries are deflated straight into `out`
 * (sizes and CRC in data descriptors after each entry, so nothing is held back), with every cell
 * an inline string or a plain number. Memory stays at one batch of rows whatever the row count;
 * SheetJS's writer builds the whole workbook in memory first (and ~1 KB per cell of it), which at
 * 100 000 rows × 12 columns is what a PBX cannot spare. Cells are never formulas.
 */
export class XlsxStream {
  private offset = 0;
  private readonly entries: Array<{ name: Buffer; crc: number; compressed: number; size: number; offset: number }> = [];
  private sheet: { deflate: zlib.DeflateRaw; crc: number; size: number; compressed: number; name: Buffer; offset: number } | null = null;
  private rowIndex = 0;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(private readonly out: Writable, private readonly sheetName = 'Отчёт') {}

  async begin(): Promise<void> {
    await this.entry('[Content_Types].xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`);
    await this.entry('_rels/.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`);
    await this.entry('xl/workbook.xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="${xmlText(this.sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`);
    await this.entry('xl/_rels/workbook.xml.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`);
    await this.entry('xl/styles.xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf/></cellXfs></styleSheet>`);
    const name = Buffer.from('xl/worksheets/sheet1.xml');
    // Level 1: the sheet is repetitive XML, so the fastest level still shrinks it ~10×; level 6
    // doubled the export's time for a file a little smaller (measured).
    const deflate = zlib.createDeflateRaw({ level: 1 });
    this.sheet = { deflate, crc: 0, size: 0, compressed: 0, name, offset: this.offset };
    await this.write(localHeader(name));
    const sheet = this.sheet;
    deflate.on('data', (chunk: Buffer) => {
      sheet.compressed += chunk.length;
    });
    deflate.pipe(this.out, { end: false });
    await this.sheetText(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`);
  }

  /** One row: strings become inline string cells, numbers number cells. */
  async row(cells: ReadonlyArray<string | number>): Promise<void> {
    this.rowIndex++;
    let xml = `<row r="${this.rowIndex}">`;
    cells.forEach((cell, i) => {
      const ref = `${columnName(i)}${this.rowIndex}`;
      xml += typeof cell === 'number'
        ? `<c r="${ref}"><v>${cell}</v></c>`
        : cell === ''
          ? ''
          : `<c r="${ref}" t="inlineStr"><is><t${/^\s|\s$/.test(cell) ? ' xml:space="preserve"' : ''}>${xmlText(cell)}</t></is></c>`;
    });
    this.buffer.push(`${xml}</row>`);
    this.buffered += xml.length;
    if (this.buffered > 64 * 1024) await this.flushRows();
  }

  async end(): Promise<void> {
    const sheet = this.sheet;
    if (!sheet) throw new Error('begin() first');
    await this.flushRows();
    await this.sheetText('</sheetData></worksheet>');
    sheet.deflate.end();
    await once(sheet.deflate, 'end');
    sheet.deflate.unpipe(this.out);
    this.offset += sheet.compressed;
    await this.write(descriptor(sheet.crc, sheet.compressed, sheet.size));
    this.entries.push({ name: sheet.name, crc: sheet.crc, compressed: sheet.compressed, size: sheet.size, offset: sheet.offset });
    const start = this.offset;
    for (const e of this.entries) await this.write(centralHeader(e));
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
  }

  private async flushRows(): Promise<void> {
    if (!this.buffer.length) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    await this.sheetText(text);
  }

  private async sheetText(text: string): Promise<void> {
    const sheet = this.sheet!;
    const data = Buffer.from(text, 'utf8');
    sheet.crc = zlib.crc32(data, sheet.crc);
    sheet.size += data.length;
    if (!sheet.deflate.write(data)) await once(sheet.deflate, 'drain');
  }

  /** A small entry, deflated whole. */
  private async entry(fileName: string, text: string): Promise<void> {
    const name = Buffer.from(fileName);
    const data = Buffer.from(text, 'utf8');
    const compressed = zlib.deflateRawSync(data);
    const entry = { name, crc: zlib.crc32(data), compressed: compressed.length, size: data.length, offset: this.offset };
    await this.write(localHeader(name));
    await this.write(compressed);
    await this.write(descriptor(entry.crc, entry.compressed, entry.size));
    this.entries.push(entry);
  }

  private async write(data: Buffer): Promise<void> {
    this.offset += data.length;
    if (!this.out.write(data)) await once(this.out, 'drain');
  }
}

// Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8.
const flags = 0x0808;
// 1 January 2026, 00:00 in MS-DOS form: a fixed stamp (the file's time is in its name).
const dosTime = 0;
const dosDate = ((2026 - 1980) << 9) | (1 << 5) | 1;

function localHeader(name: Buffer): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt16LE(8, 8);
  h.writeUInt16LE(dosTime, 10);
  h.writeUInt16LE(dosDate, 12);
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, name]);
}

function descriptor(crc: number, compressed: number, size: number): Buffer {
  const d = Buffer.alloc(16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc >>> 0, 4);
  d.writeUInt32LE(compressed, 8);
  d.writeUInt32LE(size, 12);
  return d;
}

function centralHeader(e: { name: Buffer; crc: number; compressed: number; size: number; offset: number }): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(flags, 8);
  h.writeUInt16LE(8, 10);
  h.writeUInt16LE(dosTime, 12);
  h.writeUInt16LE(dosDate, 14);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(e.compressed, 20);
  h.writeUInt32LE(e.size, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt32LE(e.offset, 42);
  return Buffer.concat([h, e.name]);
}

/** A, B, … Z, AA, AB… */
export function columnName(index: number): string {
  let n = index + 1;
  let name = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    name = String.fromCharCode(65 + r) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

/** XML text: escaped, and without the control characters XML 1.0 cannot hold (tab, LF, CR stay). */
function xmlText(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
