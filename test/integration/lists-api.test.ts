import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { pageSession, startHarness, xlsxBuffer, type Harness } from '../helpers/harness.js';

const corpus = join(import.meta.dirname, '..', 'fixtures', 'lists', 'corpus');

interface ListJson {
  id: number;
  name: string;
  sheet: string | null;
  sheets: string[];
  headerRow: number;
  columns: string[];
  phoneColumn: string;
  tags: string[];
  version: number;
  imported: number;
  duplicates: number;
  rejected: Array<{ row: number; value: string; reason: string }>;
  notes: Array<{ row: number; kind: string; value: string; text: string }>;
  fileStored: boolean;
}

function form(file: Buffer, fileName: string, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  body.append('file', new Blob([new Uint8Array(file)]), fileName);
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  return body;
}

async function json<T>(res: Response, status: number): Promise<T> {
  assert.equal(res.status, status, await res.clone().text());
  return (await res.json()) as T;
}

describe('lists API: sheets, header rows, tags, versions (issue #9)', () => {
  let h: Harness;
  let repo: ListsRepo;
  before(async () => {
    h = await startHarness();
    repo = new ListsRepo(h.service.db.knex);
  });
  after(() => h.close());

  const upload = (file: string, fields: Record<string, string> = {}) => h.api('/lists', { method: 'POST', body: form(readFileSync(join(corpus, file)), file, fields) });
  const listCount = async () => Number((await h.service.db.knex('lists').count<{ n: string }[]>('* as n'))[0]!.n);

  test('POST /lists: a 1C export with a title: header row 3 found, tags, the documented 201 shape', async () => {
    const list = await json<ListJson>(await upload('1c-title-rows.xlsx', { name: 'Должники', tags: 'Турция, должники, турция' }), 201);
    for (const key of ['id', 'name', 'sheet', 'sheets', 'headerRow', 'columns', 'phoneColumn', 'tags', 'imported', 'duplicates', 'rejected', 'notes']) assert.ok(key in list, key);
    assert.equal(list.name, 'Должники');
    assert.deepEqual([list.sheet, list.sheets, list.headerRow, list.phoneColumn], ['Контрагенты', ['Контрагенты'], 3, 'Телефон']);
    assert.deepEqual(list.columns, ['№', 'ФИО', 'Имя', 'Телефон', 'Сумма долга', 'Дата визита']);
    assert.deepEqual(list.tags, ['Турция', 'должники']);
    assert.deepEqual([list.imported, list.duplicates, list.rejected.length, list.version, list.fileStored], [3, 0, 1, 1, true]);
    assert.match(list.rejected[0]!.reason, /городской/);
    assert.deepEqual(await json(await h.api(`/lists/${list.id}`), 200), list);
  });

  test('sheet, headerRow and phoneColumn as upload fields; notes for a cell with two numbers', async () => {
    const two = await json<ListJson>(await upload('two-sheets.xlsx'), 201);
    assert.deepEqual([two.sheet, two.sheets, two.imported], ['Клиенты', ['Сводка', 'Клиенты'], 3]);
    const chosen = await json<ListJson>(await upload('1c-title-rows.xlsx', { headerRow: '1', phoneColumn: 'Столбец 4' }), 201);
    assert.deepEqual([chosen.headerRow, chosen.columns[0], chosen.phoneColumn, chosen.imported], [1, 'Выгрузка контрагентов на 01.12.2026', 'Столбец 4', 3]);
    const notes = await json<ListJson>(await upload('two-numbers-in-cell.xlsx'), 201);
    assert.deepEqual(notes.notes.map((n) => [n.row, n.kind, n.value]), [
      [2, 'other-phones', '+7 903 111 22 33, 8(3452)22-33-44'],
      [3, 'other-phones', '8(3452)22-33-44; 8 912 000-11-22'],
      [6, 'other-phones', '+7 903 111 22 33 / +7 903 111 22 34'],
    ]);
    assert.match(notes.notes[0]!.text, /взят мобильный \+79031112233, не взяты 8\(3452\)22-33-44/);
  });

  test('bad choices and bad files: a Russian 4xx and nothing stored', async () => {
    const before = await listCount();
    const cases: Array<[Response, number, string, RegExp]> = [
      [await upload('two-sheets.xlsx', { sheet: 'Нет такого' }), 422, 'VALIDATION', /нет листа «Нет такого»/],
      [await upload('empty-sheet.xlsx', { sheet: 'Пустой' }), 422, 'VALIDATION', /Лист «Пустой» пустой/],
      [await upload('1c-title-rows.xlsx', { headerRow: '2' }), 422, 'VALIDATION', /Строка 2 пустая/],
      [await upload('1c-title-rows.xlsx', { headerRow: 'третья' }), 422, 'VALIDATION', /headerRow/],
      [await upload('two-sheets.xlsx', { tags: 'x'.repeat(51) }), 422, 'VALIDATION', /Метки/],
      [await upload('zip-bomb.xlsx'), 422, 'BAD_FILE', /после распаковки слишком большой/],
      [await upload('not-a-spreadsheet.xlsx'), 422, 'BAD_FILE', /повреждён или это не таблица/],
      [await upload('broken.xlsx'), 422, 'BAD_FILE', /повреждён/],
    ];
    for (const [res, status, code, message] of cases) {
      const body = await json<{ error: { code: string; message: string } }>(res, status);
      assert.equal(body.error.code, code);
      assert.match(body.error.message, message);
    }
    assert.equal(await listCount(), before);
    assert.equal(Number((await h.service.db.knex('list_files').count<{ n: string }[]>('* as n'))[0]!.n), before);
  });

  test('a file refused after its first contacts were written (a consent cell at the end) leaves nothing; fixed, all its rows are stored in order', async () => {
    // 25 000 rows: the worker hands them over in several chunks, written while it reads the rest.
    const rows = Array.from({ length: 25_000 }, (_, i) => `8912${String(i).padStart(7, '0')};Клиент ${i};да`);
    const csv = (last: string) => Buffer.from(`Телефон;Имя;Согласие\n${rows.join('\n')}\n89990000000;Последний;${last}\n`);
    const fields = { consentColumn: 'Согласие', consentSource: 'анкеты' };
    const before = await listCount();
    const contactsBefore = Number((await h.service.db.knex('list_contacts').count<{ n: string }[]>('* as n'))[0]!.n);
    const refused = await json<{ error: { message: string } }>(await h.api('/lists', { method: 'POST', body: form(csv('может быть'), 'анкеты.csv', fields) }), 422);
    assert.match(refused.error.message, /Строка 25002/);
    assert.equal(await listCount(), before);
    assert.equal(Number((await h.service.db.knex('list_contacts').count<{ n: string }[]>('* as n'))[0]!.n), contactsBefore);
    assert.equal((await h.service.db.knex('consents').where({ phone: '+79120000000' })).length, 0);

    const list = await json<ListJson>(await h.api('/lists', { method: 'POST', body: form(csv('да'), 'анкеты.csv', fields) }), 201);
    assert.equal(list.imported, 25_001);
    const stored = await repo.contacts(list.id);
    assert.deepEqual(stored.map((c) => c.rowNumber), Array.from({ length: 25_001 }, (_, i) => i + 2));
    assert.deepEqual([stored[0]!.phone, stored[24_999]!.fields['Имя'], stored[25_000]!.phone], ['+79120000000', 'Клиент 24999', '+79990000000']);
  });

  test("the administrator's limits: rows and megabytes", async () => {
    await json(await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ importMaxRows: 10 }) }), 200);
    const rows = [['Телефон'], ...Array.from({ length: 11 }, (_, i) => [`8912000${String(i).padStart(4, '0')}`])];
    const tooMany = await json<{ error: { code: string; message: string } }>(await h.api('/lists', { method: 'POST', body: form(xlsxBuffer(rows), 'a.xlsx') }), 422);
    assert.match(tooMany.error.message, /больше 10 строк/);
    await json(await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ importMaxRows: 200_000, importMaxMb: 1 }) }), 200);
    const big = Buffer.from(`Телефон\n${'89123456789\n'.repeat(100_000)}`);
    const tooBig = await json<{ error: { code: string; message: string } }>(await h.api('/lists', { method: 'POST', body: form(big, 'a.csv') }), 413);
    assert.match(tooBig.error.message, /больше 1 МБ/);
    await json(await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ importMaxMb: 20 }) }), 200);
  });

  test('PUT re-uploads into the list: a new version; campaigns made from the old one keep theirs', async () => {
    const list = await json<ListJson>(await upload('header-row-5.xlsx', { name: 'Турция', tags: 'Турция' }), 201);
    const campaign = await json<{ id: number; recipients: number }>(
      await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Старая версия', listId: list.id, template: '{{Клиент}}, горящий тур', kind: 'service' }) }),
      201,
    );
    assert.equal(campaign.recipients, 2);
    const v1 = await repo.contacts(list.id);

    const again = await json<ListJson>(await h.api(`/lists/${list.id}`, { method: 'PUT', body: form(readFileSync(join(corpus, 'cp1251-tabs.csv')), 'cp1251-tabs.csv') }), 200);
    assert.deepEqual([again.id, again.version, again.name, again.tags, again.sheet, again.headerRow, again.columns], [list.id, 2, 'Турция', ['Турция'], null, 3, ['ФИО', 'Телефон', 'Город']]);
    const v2 = await repo.contacts(list.id);
    assert.deepEqual(v2.map((c) => c.fields['ФИО']), ['Иванов Иван', 'Петрова Ольга']);
    assert.ok(v2.every((c) => !v1.some((o) => o.id === c.id)), 'new rows');
    // The campaign made from version 1 still has its recipients and their rows.
    const messages = await json<{ total: number; items: Array<{ text: string }> }>(await h.api(`/campaigns/${campaign.id}/messages`), 200);
    assert.deepEqual(messages.items.map((m) => m.text).sort(), ['Анна, горящий тур', 'Борис, горящий тур']);
    const stillThere = await h.service.db.knex('list_contacts').where({ list_id: list.id, version: 1 }).count<{ n: string }[]>('* as n');
    assert.equal(Number(stillThere[0]!.n), 2);

    assert.equal((await h.api('/lists/99999', { method: 'PUT', body: form(readFileSync(join(corpus, 'clients.txt')), 'clients.txt') })).status, 404);
  });

  test('PATCH: name and tags; another header row, sheet or phone column re-read from the stored file', async () => {
    const list = await json<ListJson>(await upload('two-sheets.xlsx', { name: 'Египет' }), 201);
    const renamed = await json<ListJson>(await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Египет — зима', tags: ['Египет', 'зима'] }) }), 200);
    assert.deepEqual([renamed.name, renamed.tags, renamed.version], ['Египет — зима', ['Египет', 'зима'], 1]);

    const noPhones = await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ sheet: 'Сводка' }) });
    assert.equal(noPhones.status, 422);
    assert.match(((await noPhones.json()) as { error: { message: string } }).error.message, /в какой колонке телефоны/);

    const header2 = await json<ListJson>(await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ headerRow: 2, phoneColumn: '+79123456789' }) }), 200);
    assert.deepEqual([header2.headerRow, header2.columns, header2.imported, header2.version], [2, ['Анна', '+79123456789'], 2, 2]);
    assert.deepEqual((await repo.contacts(list.id)).map((c) => c.phone), ['+79161234567', '+79031112233']);
    const back = await json<ListJson>(await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ headerRow: 1 }) }), 200);
    // The phone column was not in the new header: it is found again.
    assert.deepEqual([back.headerRow, back.phoneColumn, back.imported, back.version, back.name], [1, 'Телефон', 3, 3, 'Египет — зима']);

    const bad = await json<{ error: { code: string } }>(await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ colour: 'red' }) }), 422);
    assert.equal(bad.error.code, 'VALIDATION');
    assert.equal((await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ headerRow: 0 }) })).status, 422);
    await h.service.db.knex('list_files').where({ list_id: list.id }).delete();
    const gone = await json<{ error: { code: string; message: string } }>(await h.api(`/lists/${list.id}`, { method: 'PATCH', body: JSON.stringify({ headerRow: 1 }) }), 409);
    assert.match(gone.error.message, /файл .*не хранится/);
  });

  test('GET /lists?tag= finds lists by tag, case-insensitively; ListsRepo.idsWithTags agrees', async () => {
    const { items } = await json<{ items: ListJson[] }>(await h.api(`/lists?tag=${encodeURIComponent('ТУРЦИЯ')}`), 200);
    assert.deepEqual(items.map((l) => l.name).sort(), ['Должники', 'Турция']);
    assert.deepEqual((await repo.idsWithTags(['турция'])).sort(), items.map((l) => l.id).sort());
  });

  test('the list page shows the sheet and header row taken, re-reads with another, pages the preview', async () => {
    const session = await pageSession(h);
    const list = await json<ListJson>(await upload('1c-title-rows.xlsx', { name: 'Страница' }), 201);
    let page = await session.get(`/lists/${list.id}`);
    assert.match(page.html, /лист <b>«Контрагенты»<\/b>/);
    assert.match(page.html, /data-testid="header-row">3</);
    const res = await session.post(`/lists/${list.id}/reread`, { headerRow: '1', phoneColumn: '' });
    assert.equal(res.status, 303);
    page = await session.get(`/lists/${list.id}`);
    assert.match(page.html, /data-testid="header-row">1</);
    const wrong = await session.post(`/lists/${list.id}/reread`, { headerRow: '2' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.html, /Строка 2 пустая/);
    const labels = await session.post(`/lists/${list.id}/labels`, { name: 'Страница', tags: 'Египет, VIP' });
    assert.equal(labels.status, 303);
    assert.match((await session.get('/lists?tag=vip')).html, /Страница/);
    assert.doesNotMatch((await session.get('/lists?tag=vip')).html, /Должники/);

    const rows = [['Телефон', 'Имя'], ...Array.from({ length: 120 }, (_, i) => [`8912000${String(i).padStart(4, '0')}`, `Клиент ${i + 1}`])];
    const big = await json<ListJson>(await h.api('/lists', { method: 'POST', body: form(xlsxBuffer(rows), 'big.xlsx') }), 201);
    const last = await session.get(`/lists/${big.id}?page=3`);
    assert.match(last.html, /Строки 101–120 из 120/);
    assert.match(last.html, /Клиент 120/);
    assert.doesNotMatch(last.html, />Клиент 1</);
  });
});
