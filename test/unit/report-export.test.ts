import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as XLSX from 'xlsx';
import { PassThrough } from 'node:stream';
import { csvLine, neutralise, zonedFormatter } from '../../src/campaigns/report-export.js';
import { pageWindow, parseReportSearch } from '../../src/campaigns/report-search.js';
import { XlsxStream, columnName } from '../../src/campaigns/xlsx-stream.js';

test('a cell Excel would read as a formula gets a leading apostrophe', () => {
  for (const v of ['=1+1', '+7912', '-1', '@SUM(A1)', '\tx', '\rx']) assert.equal(neutralise(v), `'${v}`);
  for (const v of ['', 'Анна', '7912', ' =1', "'уже"]) assert.equal(neutralise(v), v);
});

test('CSV lines: semicolons, quotes where needed, CRLF', () => {
  assert.equal(csvLine(['a', 'b;c', 'd"e', 'f\ng']), 'a;"b;c";"d""e";"f\ng"\r\n');
});

test('times in the office zone, dd.mm.yyyy hh:mm:ss', () => {
  const t = zonedFormatter('Asia/Yekaterinburg');
  assert.equal(t(new Date('2026-12-02T09:05:07Z')), '02.12.2026 14:05:07');
  assert.equal(t(null), '');
  assert.equal(zonedFormatter('Europe/Kaliningrad')(new Date('2026-07-01T23:30:00Z')), '02.07.2026 01:30:00');
});

test('search: the tail of a number, or word prefixes', () => {
  assert.deepEqual(parseReportSearch('8 (912) 345-67-89'), { phoneTailPattern: '9876543219%', wordsQuery: '8:* & 912:* & 345:* & 67:* & 89:*' });
  assert.deepEqual(parseReportSearch('6789'), { phoneTailPattern: '9876%', wordsQuery: '6789:*' });
  assert.deepEqual(parseReportSearch('Анна Петр!'), { phoneTailPattern: null, wordsQuery: 'анна:* & петр:*' });
  assert.equal(parseReportSearch("  ' & | !  "), null, 'nothing a tsquery could misread');
  assert.equal(parseReportSearch(''), null);
});

test('pages read from the nearer end', () => {
  assert.deepEqual(pageWindow(1, 50, 1000), { direction: 'asc', offset: 0, limit: 50 });
  assert.deepEqual(pageWindow(20, 50, 1000), { direction: 'desc', offset: 0, limit: 50 });
  assert.deepEqual(pageWindow(20, 50, 990), { direction: 'desc', offset: 0, limit: 40 });
  assert.deepEqual(pageWindow(15, 50, 1000), { direction: 'desc', offset: 250, limit: 50 });
});

test('the streamed .xlsx opens in SheetJS: strings stay strings, never formulas', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const x = new XlsxStream(out);
  await x.begin();
  await x.row(['Имя', 'Формула', 'Управляющие']);
  await x.row(['Анна & <Ко>', "'=1+1", 'a\u0001b\tc']);
  await x.row([5, '', 'x']);
  await x.end();
  const book = XLSX.read(Buffer.concat(chunks), { type: 'buffer', cellFormula: true });
  const sheet = book.Sheets[book.SheetNames[0]!]!;
  assert.deepEqual(XLSX.utils.sheet_to_json(sheet, { header: 1, raw: true, defval: '' }), [['Имя', 'Формула', 'Управляющие'], ['Анна & <Ко>', "'=1+1", 'ab\tc'], [5, '', 'x']]);
  assert.equal(sheet.B2?.f, undefined);
  assert.equal(columnName(0), 'A');
  assert.equal(columnName(26), 'AA');
});
