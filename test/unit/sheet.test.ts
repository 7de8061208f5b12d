import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import * as XLSX from 'xlsx';
import * as cptable from 'xlsx/dist/cpexcel.full.mjs';
import { readSheet, SheetError, zipUnpackedBytes, type SheetErrorCode } from '../../src/lists/sheet.js';

const codepages = cptable as unknown as { utils: { encode(cp: number, text: string): Uint8Array | number[] } };
const cp1251 = (text: string) => Buffer.from(codepages.utils.encode(1251, text));
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'lists');

function workbook(aoa: unknown[][], bookType: XLSX.BookType = 'xlsx', edit?: (sheet: XLSX.WorkSheet) => void): Buffer {
  const sheet = XLSX.utils.aoa_to_sheet(aoa);
  edit?.(sheet);
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, sheet, 'Лист1');
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['Другой лист'], ['не читается']]), 'Лист2');
  return XLSX.write(book, { type: 'buffer', bookType }) as Buffer;
}

function assertSheetError(fn: () => unknown, code: SheetErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SheetError, `expected SheetError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message ?? /[А-Яа-я]{4,}/);
    return true;
  });
}

describe('readSheet: xlsx', () => {
  it('reads Cyrillic headers, phones stored as numbers, empty rows and duplicate headers', () => {
    const data = workbook(
      [
        ['  Телефон ', 'Имя', '', 'Имя', 'Сумма', 'Дата'],
        [79123456789, 'Анна', 'x', 'Анна П.', 1500.5, 45000],
        [],
        [9123456789, 'Борис', '', '', 2, null],
        [791234567890, 'Длинный', '', '', 0.1 + 0.2, null],
      ],
      'xlsx',
      (sheet) => {
        sheet['F2']!.z = 'dd.mm.yyyy';
      },
    );
    const sheet = readSheet(data, 'клиенты.xlsx');
    assert.deepEqual(sheet.columns, ['Телефон', 'Имя', 'Столбец 3', 'Имя (2)', 'Сумма', 'Дата']);
    assert.deepEqual(sheet.rows, [
      ['79123456789', 'Анна', 'x', 'Анна П.', '1500,5', '15.03.2023'],
      ['9123456789', 'Борис', '', '', '2', ''],
      ['791234567890', 'Длинный', '', '', '0,3', ''],
    ]);
    // Row 3 of the spreadsheet is empty: skipped, but numbering is kept.
    assert.deepEqual(sheet.rowNumbers, [2, 4, 5]);
  });

  it('reads only the first sheet and finds a header below leading empty rows', () => {
    const sheet = readSheet(workbook([[], ['Телефон'], ['+7 912 345-67-89']]), 'a.XLSX');
    assert.deepEqual(sheet.columns, ['Телефон']);
    assert.deepEqual(sheet.rows, [['+7 912 345-67-89']]);
    assert.deepEqual(sheet.rowNumbers, [3]);
  });

  it('reads .xls (BIFF8) and .ods too', () => {
    for (const bookType of ['xls', 'ods'] as const) {
      const sheet = readSheet(workbook([['Телефон', 'Имя'], [89123456789, 'Ёжик']], bookType), `list.${bookType}`);
      assert.deepEqual(sheet.columns, ['Телефон', 'Имя'], bookType);
      assert.deepEqual(sheet.rows, [['89123456789', 'Ёжик']], bookType);
    }
  });

  it('trusts the bytes over the name: an xlsx renamed to .csv', () => {
    const sheet = readSheet(workbook([['Телефон'], [79123456789]]), 'export.csv');
    assert.deepEqual(sheet.rows, [['79123456789']]);
  });

  it('reads an HTML table or a CSV saved with an .xls name (1C and web-shop exports)', () => {
    const html = '<html><meta charset="utf-8"><body><table><tr><td>Телефон</td><td>Имя</td></tr><tr><td>89123456789</td><td>Анна</td></tr></table></body></html>';
    assert.deepEqual(readSheet(Buffer.from(html), 'export.xls').rows, [['89123456789', 'Анна']]);
    assert.deepEqual(readSheet(cp1251('Телефон;Имя\r\n89123456789;Анна\r\n'), 'export.xls').rows, [['89123456789', 'Анна']]);
  });

  it('reads the committed fixture', () => {
    const sheet = readSheet(readFileSync(join(fixtures, 'clients.xlsx')), 'clients.xlsx');
    assert.deepEqual(sheet.columns, ['Телефон', 'Имя', 'Заказ', 'Сумма']);
    assert.equal(sheet.rows.length, 8);
    assert.deepEqual(sheet.rows[1], ['79161234567', 'Борис', '84316', '2350,5']);
    assert.deepEqual(sheet.rowNumbers, [2, 3, 4, 5, 7, 8, 9, 10]);
  });
});

describe('readSheet: csv', () => {
  it('reads Windows-1251 with ";" as Russian Excel writes it', () => {
    const csv = 'Телефон;Имя;Комментарий;Сумма\r\n8 (912) 345-67-89;Анна;"Звонить после 18:00; не в выходные";1500,50\r\n;;;\r\n+7 903 111-22-33;Ёлка;"Сказала ""да""";007\r\n';
    const sheet = readSheet(cp1251(csv), 'clients.csv');
    assert.deepEqual(sheet.columns, ['Телефон', 'Имя', 'Комментарий', 'Сумма']);
    assert.deepEqual(sheet.rows, [
      ['8 (912) 345-67-89', 'Анна', 'Звонить после 18:00; не в выходные', '1500,50'],
      ['+7 903 111-22-33', 'Ёлка', 'Сказала "да"', '007'],
    ]);
    assert.deepEqual(sheet.rowNumbers, [2, 4]);
  });

  it('reads UTF-8 with BOM and "," separator', () => {
    const csv = '\uFEFFТелефон,Имя,Заказ\n79123456789,"Петров, Иван",84315\n';
    const sheet = readSheet(Buffer.from(csv, 'utf8'), 'clients.csv');
    assert.deepEqual(sheet.columns, ['Телефон', 'Имя', 'Заказ']);
    assert.deepEqual(sheet.rows, [['79123456789', 'Петров, Иван', '84315']]);
  });

  it('reads UTF-8 without BOM with ";" and keeps decimal commas in cells', () => {
    const sheet = readSheet(Buffer.from('Телефон;Сумма\n89123456789;1500,5\n89123456780;2,25\n'), 'a.csv');
    assert.deepEqual(sheet.rows, [
      ['89123456789', '1500,5'],
      ['89123456780', '2,25'],
    ]);
  });

  it('honours an Excel "sep=" line and a multi-line quoted cell', () => {
    const sheet = readSheet(Buffer.from('sep=,\r\nТелефон,Адрес\r\n89123456789,"ул. Ленина, 1\r\nкв. 2"\r\n89123456780,Москва\r\n'), 'a.csv');
    assert.deepEqual(sheet.columns, ['Телефон', 'Адрес']);
    assert.deepEqual(sheet.rows, [
      ['89123456789', 'ул. Ленина, 1\nкв. 2'],
      ['89123456780', 'Москва'],
    ]);
    assert.deepEqual(sheet.rowNumbers, [2, 3]);
  });

  it('reads UTF-16 with BOM (Excel "Unicode text", tab-separated)', () => {
    const body = Buffer.from('Телефон\tИмя\r\n89123456789\tАнна\r\n', 'utf16le');
    const sheet = readSheet(Buffer.concat([Buffer.from([0xff, 0xfe]), body]), 'a.txt');
    assert.deepEqual(sheet.rows, [['89123456789', 'Анна']]);
  });

  it('reads the committed cp1251 fixture', () => {
    const sheet = readSheet(readFileSync(join(fixtures, 'clients-cp1251.csv')), 'clients-cp1251.csv');
    assert.deepEqual(sheet.columns, ['Телефон', 'Имя', 'Заказ', 'Сумма']);
    assert.equal(sheet.rows.length, 8);
    assert.deepEqual(sheet.rows[3], ['8 (495) 123-45-67', 'ООО «Ромашка»', '84318', '12000']);
  });
});

describe('readSheet: errors', () => {
  it('unsupported file type', () => {
    assertSheetError(() => readSheet(Buffer.from('%PDF-1.4'), 'счёт.pdf'), 'unsupported-type', /счёт\.pdf/);
    assertSheetError(() => readSheet(Buffer.from('x'), 'без расширения'), 'unsupported-type');
  });

  it('empty file', () => {
    assertSheetError(() => readSheet(Buffer.alloc(0), 'a.xlsx'), 'empty-file');
    assertSheetError(() => readSheet(Buffer.from(';;\r\n ; \r\n'), 'a.csv'), 'empty-file');
  });

  it('no header: the first row is data', () => {
    assertSheetError(() => readSheet(Buffer.from('89123456789;+7 912 345-67-80\n89123456781;89123456782\n'), 'a.csv'), 'no-header', /названия колонок/);
  });

  it('no data rows', () => {
    assertSheetError(() => readSheet(workbook([['Телефон', 'Имя']]), 'a.xlsx'), 'no-rows');
  });

  it('corrupt workbook', () => {
    const good = workbook([['Телефон'], [79123456789]]);
    assertSheetError(() => readSheet(good.subarray(0, good.length / 2), 'a.xlsx'), 'unreadable', /a\.xlsx/);
    assertSheetError(() => readSheet(Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00, 0x10]), 'a.xls'), 'unreadable');
  });

  it('too many rows', () => {
    const csv = 'Телефон\n' + Array.from({ length: 5 }, (_, i) => `8912345678${i}`).join('\n');
    assert.equal(readSheet(Buffer.from(csv), 'a.csv', { maxRows: 5 }).rows.length, 5);
    assertSheetError(() => readSheet(Buffer.from(csv), 'a.csv', { maxRows: 4 }), 'too-many-rows', /4/);
  });
});

test('a workbook that would inflate past the limit is refused before it is unpacked', () => {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['Телефон'], ['89123456789']]), 'Лист1');
  const data = Buffer.from(XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  const honest = zipUnpackedBytes(data);
  assert.ok(honest !== null && honest > 0 && honest < 1_000_000);
  // Declare one part as 400 MB, as a ten-million-row sheet would.
  const cd = data.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  data.writeUInt32LE(400 * 1024 * 1024, cd + 24);
  assert.throws(() => readSheet(data, 'бомба.xlsx'), (e: unknown) => e instanceof SheetError && e.code === 'too-large' && /слишком большой/.test(e.message));
});
