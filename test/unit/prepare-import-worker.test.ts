import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError } from '../../src/errors.js';
import { MAX_WAITING_PARSES, prepareImportInWorker, streamImportInWorker } from '../../src/lists/prepare-import-in-worker.js';
import { xlsxBuffer } from '../helpers/harness.js';

test('a list is read in a worker thread: phones normalised, the rejected rows named', async () => {
  const data = xlsxBuffer([
    ['Имя', 'Телефон'],
    ['Анна', '8 (912) 345-67-89'],
    ['Мусор', 'не номер'],
  ]);
  const r = await prepareImportInWorker(data, 'клиенты.xlsx', undefined);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.phoneColumn, 'Телефон');
  assert.deepEqual(r.result.contacts.map((c) => c.phone), ['+79123456789']);
  assert.deepEqual(r.result.rejected.map((x) => x.row), [3]);
});

test('a streamed parse hands its contacts over in chunks, in row order, before its answer; together they are the answer\'s contacts', async () => {
  const rows = [['Имя', 'Телефон'], ...Array.from({ length: 7 }, (_, i) => [`Клиент ${i}`, `8 912 000-00-0${i}`]), ['Повтор', '+79120000003'], ['Мусор', 'нет']];
  const whole = await prepareImportInWorker(xlsxBuffer(rows), 'a.xlsx', undefined);
  const streamed = streamImportInWorker(xlsxBuffer(rows), 'a.xlsx', {}, undefined, 3);
  const chunks: Array<Array<[number, string, string]>> = [];
  for await (const chunk of streamed.chunks) chunks.push(chunk.map((c) => [c.rowNumber, c.phone, c.fields['Имя']!]));
  assert.deepEqual(chunks.map((c) => c.length), [3, 3, 1]);
  const r = await streamed.prepared;
  assert.ok(r.kind === 'ok' && whole.kind === 'ok');
  const asRows = (contacts: typeof r.result.contacts) => contacts.map((c) => [c.rowNumber, c.phone, c.fields['Имя']!]);
  assert.deepEqual(chunks.flat(), asRows(r.result.contacts));
  assert.deepEqual(asRows(r.result.contacts), asRows(whole.result.contacts));
  assert.deepEqual([r.result.duplicates, r.result.rejected], [whole.result.duplicates, whole.result.rejected]);

  // A file that is not a list streams nothing; its answer says why.
  const bad = streamImportInWorker(Buffer.from('Имя;Город\nАнна;Тюмень\n'), 'b.csv', {}, undefined, 3);
  for await (const _ of bad.chunks) assert.fail('no contacts from a file without phones');
  assert.equal((await bad.prepared).kind, 'no-phone-column');
});

test('a file that needs more memory than the parser may use is refused; the service survives', async () => {
  const rows = [['Телефон', 'Имя'], ...Array.from({ length: 60_000 }, (_, i) => [`8916${String(i).padStart(7, '0')}`, `Клиент ${i}`])];
  const r = await prepareImportInWorker(xlsxBuffer(rows), 'большой.xlsx', undefined, { maxHeapMb: 24, timeoutMs: 60_000 });
  assert.equal(r.kind, 'bad-file');
  assert.equal(r.kind === 'bad-file' && r.code, 'too-large');
});

test('the parse is time-boxed: a worker past its time is stopped and the upload gets a clear Russian error', async () => {
  const rows = [['Телефон', 'Имя'], ...Array.from({ length: 20_000 }, (_, i) => [`8916${String(i).padStart(7, '0')}`, `Клиент ${i}`])];
  // 30 ms is far less than this parse takes, so the answer can only come from the time box.
  const r = await prepareImportInWorker(xlsxBuffer(rows), 'медленный.xlsx', undefined, { maxHeapMb: 512, timeoutMs: 30 });
  assert.equal(r.kind, 'bad-file');
  if (r.kind !== 'bad-file') return;
  assert.equal(r.code, 'too-slow');
  assert.match(r.message, /медленный\.xlsx.*был остановлен/);
});

test('one 3-million-digit cell is refused at once with its row and column, before any phone parsing', async () => {
  const csv = Buffer.from(`Телефон;Имя\n89123456789;Анна\n${'9'.repeat(3_000_000)};Борис\n`);
  const r = await prepareImportInWorker(csv, 'длинная.csv', undefined);
  assert.equal(r.kind, 'bad-file');
  if (r.kind !== 'bad-file') return;
  assert.equal(r.code, 'cell-too-long');
  assert.match(r.message, /строке 3, колонка «Телефон»/);
});

test('a worker warmed ahead of an upload (the lists pages do it) parses the upload, and the next one too', async () => {
  const { warmImportWorker } = await import('../../src/lists/prepare-import-in-worker.js');
  warmImportWorker();
  warmImportWorker(); // already warm: no second worker
  for (const name of ['Анна', 'Борис']) {
    const r = await prepareImportInWorker(Buffer.from(`Выгрузка на 01.12.2026\n\nИмя;Телефон\n${name};8 912 345-67-89, 8 (3452) 22-33-44\n`), 'a.csv', undefined);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.headerRow, 3);
    assert.deepEqual(r.result.contacts.map((c) => [c.phone, c.fields['Имя']]), [['+79123456789', name]]);
    assert.deepEqual(r.result.notes.map((n) => n.kind), ['other-phones']);
  }
});

test('uploads beyond the running one and those waiting are refused at once (503, in Russian), not queued without end', async () => {
  const data = xlsxBuffer([['Телефон'], ['89123456789']]);
  const accepted = Array.from({ length: MAX_WAITING_PARSES + 1 }, () => prepareImportInWorker(data, 'a.xlsx', undefined));
  const refused = await prepareImportInWorker(data, 'b.xlsx', undefined).then(() => null, (err: unknown) => err);
  assert.ok(isAppError(refused) && refused.status === 503, 'refused with BUSY');
  assert.match((refused as Error).message, /Подождите минуту/);
  for (const r of await Promise.all(accepted)) assert.equal(r.kind, 'ok');
  // Once they are through, uploads are taken again.
  assert.equal((await prepareImportInWorker(data, 'c.xlsx', undefined)).kind, 'ok');
});
