import { inflateRawSync } from 'node:zlib';

/** What one part of a workbook may inflate to while it is searched (uploads are capped far below). */
const MAX_PART_BYTES = 200 * 1024 * 1024;

/** Separators people put inside numbers, removed before searching (as erasure-repo's SQL does). */
const SEPARATORS = /[\s\u00a0()./-]/g;

/**
 * Whether a stored list file may hold a number whose last 10 digits are `lastDigits`, anywhere —
 * another sheet, a row above the header, a column that was not imported. Used by erasure (152-FZ):
 * a file that may hold it is deleted.
 * - .xlsx/.ods (zip): every part is inflated and its text searched (cells are XML text).
 * - CSV/TXT: the text, decoded as UTF-16 when it says so; digits are ASCII in UTF-8 and cp1251.
 * - .xls (BIFF) and anything else: numbers are binary doubles there, not text; we cannot tell
 *   cheaply, so the answer is yes and the file goes.
 */
export function fileMayHold(data: Buffer, lastDigits: string): boolean {
  if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) return zipMayHold(data, lastDigits);
  if (data.length >= 8 && data.readUInt32LE(0) === 0xe011cfd0) return true;
  if (data.subarray(0, 512).includes(0) && !(data[0] === 0xff && data[1] === 0xfe) && !(data[0] === 0xfe && data[1] === 0xff)) return true;
  return textHolds(decode(data), lastDigits);
}

function decode(data: Buffer): string {
  if (data[0] === 0xff && data[1] === 0xfe) return data.subarray(2).toString('utf16le');
  if (data[0] === 0xfe && data[1] === 0xff) {
    const swapped = Buffer.from(data.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return data.toString('latin1');
}

function textHolds(text: string, lastDigits: string): boolean {
  return text.replace(SEPARATORS, '').includes(lastDigits);
}

function zipMayHold(data: Buffer, lastDigits: string): boolean {
  const from = Math.max(0, data.length - 65_557);
  let eocd = -1;
  for (let i = data.length - 22; i >= from; i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return true;
  const entries = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  try {
    for (let n = 0; n < entries; n++) {
      if (offset + 46 > data.length || data.readUInt32LE(offset) !== 0x02014b50) return true;
      const method = data.readUInt16LE(offset + 10);
      const compressed = data.readUInt32LE(offset + 20);
      const local = data.readUInt32LE(offset + 42);
      offset += 46 + data.readUInt16LE(offset + 28) + data.readUInt16LE(offset + 30) + data.readUInt16LE(offset + 32);
      if (local + 30 > data.length || data.readUInt32LE(local) !== 0x04034b50) return true;
      const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
      const raw = data.subarray(start, start + compressed);
      let part: Buffer;
      if (method === 0) part = raw;
      else if (method === 8) part = inflateRawSync(raw, { maxOutputLength: MAX_PART_BYTES });
      else return true;
      // XML cells are UTF-8; digits are ASCII, so latin1 keeps them and is cheap.
      if (textHolds(part.toString('latin1'), lastDigits)) return true;
    }
  } catch {
    return true; // damaged or too big to look into: not proven clean
  }
  return false;
}
