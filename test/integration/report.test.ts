import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as XLSX from 'xlsx';
import { campaignFinished, pageSession, startHarness, uploadList, type Harness } from '../helpers/harness.js';

/** Issue #9 part C: test send, the report (paging, filter, search, fields) and its export. */

interface Item { id: number; row: number | null; phone: string; fields: Record<string, string>; text: string; state: string; modem: string | null; sentAt: string | null; finishedAt: string | null; error: string | null }
interface Page { page: number; pageSize: number; total: number; pages: number; next: number | null; items: Item[] }

const injections = ['=HYPERLINK("http://x","y")', '+79001234567', '-2+3', '@SUM(A1)', '\tтаб', '\rвозврат'];

function listRows(n: number): unknown[][] {
  const rows: unknown[][] = [['Телефон', 'Имя', 'Город', 'Заметка']];
  for (let i = 0; i < n; i++) {
    const phone = `+7 912 ${String(1_000_000 + i).slice(1, 4)}-${String(1_000_000 + i).slice(4, 6)}-${String(1_000_000 + i).slice(5)}`;
    const digits = `8912${String(i).padStart(7, '0')}`;
    rows.push([i === 3 ? 'не номер' : digits, i % 10 === 0 ? '' : `Клиент${i}`, ['Москва', 'Тюмень', 'Казань'][i % 3], injections[i % injections.length]]);
    void phone;
  }
  return rows;
}

describe('campaign report: test send, paging, search, export', () => {
  let h: Harness;
  let listId: number;
  before(async () => {
    h = await startHarness();
    const upload = await uploadList(h, listRows(230));
    assert.equal(upload.status, 201);
    listId = ((await upload.json()) as { id: number }).id;
  });
  after(async () => {
    await h.close();
  });

  async function draft(name: string, template = 'Здравствуйте, {{Имя}}! Город: {{Город}}.'): Promise<number> {
    const res = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name, listId, template, kind: 'service' }) });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: number }).id;
  }

  const summary = async (id: number) => (await (await h.api(`/campaigns/${id}`)).json()) as { counts: Record<string, number>; parts: number; cost: number; costSoFar: number };

  test('a test send reaches the simulator ahead of the campaign and is not counted', async () => {
    const id = await draft('Тест перед стартом');
    const before = await summary(id);

    const bad = await h.api(`/campaigns/${id}/test`, { method: 'POST', body: JSON.stringify({ phone: '8 845 2 25 57 75' }) });
    assert.equal(bad.status, 422, 'a landline is refused');
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^phone: /);
    const noRow = await h.api(`/campaigns/${id}/test`, { method: 'POST', body: JSON.stringify({ phone: '89001112233', row: 9999 }) });
    assert.equal(noRow.status, 422);
    assert.match(((await noRow.json()) as { error: { message: string } }).error.message, /строки 9999/);

    const res = await h.api(`/campaigns/${id}/test`, { method: 'POST', body: JSON.stringify({ phone: '8 900 111-22-33', row: 3 }) });
    assert.equal(res.status, 201);
    const sent = (await res.json()) as { id: number; state: string };
    assert.equal(sent.state, 'waiting');
    for (let i = 0; i < 200 && !h.simulator.sent.some((s) => s.number === '+79001112233'); i++) await new Promise((r) => setTimeout(r, 50));
    const got = h.simulator.sent.find((s) => s.number === '+79001112233');
    assert.ok(got, 'the test SMS reached the modem while the campaign is a draft');
    assert.equal(got.text, 'Здравствуйте, Клиент1! Город: Тюмень.', 'the rendered text of list row 3 (the second data row)');

    const afterTest = await summary(id);
    assert.deepEqual(afterTest.counts, before.counts, 'counts unchanged');
    assert.equal(afterTest.parts, before.parts);
    assert.equal(afterTest.costSoFar, 0);

    // Stop-list honoured: stored skipped with the reason, nothing sent.
    assert.equal((await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: '89004445566', reason: 'просил' }) })).status, 201);
    const stopped = await h.api(`/campaigns/${id}/test`, { method: 'POST', body: JSON.stringify({ phone: '89004445566' }) });
    assert.equal(stopped.status, 201);
    assert.equal(((await stopped.json()) as { state: string }).state, 'skipped');

    // The campaign page shows the tests with their state (live JSON too).
    const page = await pageSession(h);
    const live = JSON.parse((await page.get(`/campaigns/${id}/live`)).html) as { tests: Array<{ phone: string; state: string }>; total: number };
    assert.equal(live.total, 230 - 1, 'the report has the campaign messages only');
    assert.deepEqual(live.tests.map((t) => t.phone).sort(), ['+79001112233', '+79004445566']);
    assert.ok(['sent', 'delivered'].includes(live.tests.find((t) => t.phone === '+79001112233')!.state));
    const html = (await page.get(`/campaigns/${id}`)).html;
    assert.match(html, /Отправить тест/);
    const audit = await h.audit.list({ action: 'campaign.test' });
    assert.equal(audit.length, 2);
    assert.doesNotMatch(JSON.stringify(audit), /79001112233/, 'the audit masks the number');
  });

  test('pages (first, middle, last), a state filter and searches return the right rows', async () => {
    const id = await draft('Листаем');
    const all: Item[] = [];
    let after = 0;
    for (;;) {
      const r = (await (await h.api(`/campaigns/${id}/messages?after=${after}&pageSize=40`)).json()) as { next: number | null; items: Item[] };
      all.push(...r.items);
      if (r.next === null) break;
      after = r.next;
    }
    assert.equal(all.length, 229);
    assert.deepEqual(all.map((m) => m.id), [...all.map((m) => m.id)].sort((a, b) => a - b), 'keyset in id order');
    assert.equal(new Set(all.map((m) => m.id)).size, 229);

    const get = async (query: string) => (await (await h.api(`/campaigns/${id}/messages?${query}`)).json()) as Page;
    for (const p of [1, 3, 5]) {
      const r = await get(`page=${p}&pageSize=50`);
      assert.equal(r.total, 229);
      assert.equal(r.pages, 5);
      assert.deepEqual(r.items.map((m) => m.id), all.slice((p - 1) * 50, p * 50).map((m) => m.id), `page ${p}`);
    }
    const last = await get('page=5&pageSize=50');
    assert.equal(last.items.length, 29);
    assert.deepEqual(last.items[0]!.fields, { Телефон: all[200]!.fields.Телефон, Имя: all[200]!.fields.Имя, Город: all[200]!.fields.Город, Заметка: all[200]!.fields.Заметка });

    // Empty Имя: skipped rows (every 10th data row).
    const skipped = all.filter((m) => m.state === 'skipped');
    assert.equal(skipped.length, 23);
    const s2 = await get('state=skipped&page=2&pageSize=10');
    assert.equal(s2.total, 23);
    assert.deepEqual(s2.items.map((m) => m.id), skipped.slice(10, 20).map((m) => m.id));
    const s3 = await get('state=skipped&page=3&pageSize=10');
    assert.deepEqual(s3.items.map((m) => m.id), skipped.slice(20).map((m) => m.id), 'last page of a filter, read from the end');

    const byTail = await get(`q=${encodeURIComponent('0000123')}`);
    assert.deepEqual(byTail.items.map((m) => m.phone), ['+79120000123']);
    const byFull = await get(`q=${encodeURIComponent('8 (912) 000-01-23')}`);
    assert.deepEqual(byFull.items.map((m) => m.phone), ['+79120000123']);
    const byWord = await get(`q=${encodeURIComponent('клиент12')}`);
    assert.deepEqual(byWord.items.map((m) => m.fields.Имя).sort(), ['Клиент12', 'Клиент121', 'Клиент122', 'Клиент123', 'Клиент124', 'Клиент125', 'Клиент126', 'Клиент127', 'Клиент128', 'Клиент129', 'Клиент12'.replace('12', '12')].filter((v, i, a) => a.indexOf(v) === i).sort());
    const twoWords = await get(`q=${encodeURIComponent('тюмень клиент12')}`);
    assert.ok(twoWords.items.every((m) => m.fields.Город === 'Тюмень' && m.fields.Имя!.startsWith('Клиент12')));
    assert.ok(twoWords.total > 0);
    const filtered = await get(`q=${encodeURIComponent('казань')}&state=skipped`);
    assert.ok(filtered.total > 0 && filtered.items.every((m) => m.state === 'skipped' && m.fields.Город === 'Казань'));
    assert.equal((await get(`q=${encodeURIComponent('нетникого')}`)).total, 0);
  });

  test('CSV and XLSX exports re-read equal the report, every injection cell neutralised', async () => {
    // A small list: every injection value, and a finished campaign in seconds.
    const small = await uploadList(h, listRows(24), 'Выгрузка');
    const smallId = ((await small.json()) as { id: number }).id;
    const created = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Выгрузка', listId: smallId, template: '{{Заметка}} {{Имя}}', kind: 'service' }) });
    const id = ((await created.json()) as { id: number }).id;
    // The upload trims cells, so a leading tab or CR can only come from the database: put them there.
    const knex = h.testDb.db.knex;
    const contacts: Array<{ id: number; fields: Record<string, string> }> = await knex('list_contacts').where({ list_id: smallId }).orderBy('id').limit(2).select('id', 'fields');
    for (const [i, c] of contacts.entries()) {
      await knex('list_contacts').where({ id: c.id }).update({ fields: JSON.stringify({ ...c.fields, Заметка: ['\tтаб', '\rвозврат'][i] }) });
    }
    assert.equal((await h.api(`/campaigns/${id}/start`, { method: 'POST' })).status, 200);
    await campaignFinished(h.service, id);
    const report: Item[] = [];
    for (let p = 1; ; p++) {
      const r = (await (await h.api(`/campaigns/${id}/messages?page=${p}&pageSize=100`)).json()) as Page;
      report.push(...r.items);
      if (p >= r.pages) break;
    }
    assert.equal(report.length, 23);
    const { timezone } = (await (await h.api('/settings')).json()) as { timezone: string };
    const time = (iso: string | null) => (iso ? new Intl.DateTimeFormat('ru-RU', { timeZone: timezone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(iso)).replace(',', '') : '');
    const words: Record<string, string> = { sent: 'отправлено', delivered: 'доставлено', skipped: 'пропущено', failed: 'ошибка', unknown: 'неизвестно', waiting: 'в очереди', sending: 'отправляется' };
    const safe = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
    const expected = [
      ['Строка', 'Номер', 'Телефон', 'Имя', 'Город', 'Заметка', 'Текст SMS', 'SIM', 'Отправлено', 'Завершено', 'Состояние', 'Причина'],
      ...report.map((m) => [String(m.row), m.phone, m.fields.Телефон, m.fields.Имя, m.fields.Город, m.fields.Заметка, m.text, m.modem ?? '', time(m.sentAt), time(m.finishedAt), words[m.state], m.error ?? ''].map((v) => safe(v ?? ''))),
    ];

    const csv = await h.api(`/campaigns/${id}/export?format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    const text = bytes.toString('utf8').slice(1);
    assert.equal(text.split('\r\n').length, 25, 'CRLF lines: header, 23 rows, the empty end');
    assert.match(text.split('\r\n')[0]!, /^Строка;Номер;Телефон;/);
    const fromCsv = XLSX.utils.sheet_to_json<string[]>(XLSX.read(text, { type: 'string', raw: true, FS: ';' } as XLSX.ParsingOptions).Sheets.Sheet1!, { header: 1, raw: false, defval: '' });
    assert.deepEqual(fromCsv, expected);

    const xlsx = await h.api(`/campaigns/${id}/export?format=xlsx`);
    assert.equal(xlsx.status, 200);
    const book = XLSX.read(Buffer.from(await xlsx.arrayBuffer()), { type: 'buffer', cellFormula: true });
    const sheet = book.Sheets[book.SheetNames[0]!]!;
    const fromXlsx = XLSX.utils.sheet_to_json<string[]>(sheet, { header: 1, raw: true, defval: '' });
    assert.deepEqual(fromXlsx, expected);
    for (const [ref, cell] of Object.entries(sheet)) {
      if (ref.startsWith('!')) continue;
      assert.equal((cell as XLSX.CellObject).t, 's', `${ref} is a string cell`);
      assert.equal((cell as XLSX.CellObject).f, undefined, `${ref} is never a formula`);
    }
    // Every injection value of the list appears, neutralised, in both files.
    for (const table of [fromCsv, fromXlsx]) {
      const notes = new Set(table.slice(1).map((r) => r[5]));
      for (const v of injections) assert.ok(notes.has(`'${v}`), `«${JSON.stringify(v)}» exported as text`);
    }
    const texts = fromXlsx.slice(1).map((r) => r[6]!);
    assert.ok(texts.some((t) => t.startsWith("'=HYPERLINK")), 'an SMS text starting with = is neutralised too');
    const audit = await h.audit.list({ action: 'campaign.exported' });
    assert.deepEqual(audit.map((a) => a.details.format).sort(), ['csv', 'xlsx']);
    assert.equal((await h.api(`/campaigns/${id}/export?format=pdf`)).status, 422);
  });

  test('a campaign over two lists: the report and the export show the union of their columns', async () => {
    const a = await uploadList(h, [['Телефон', 'Имя'], ['89130000001', 'Анна'], ['89130000002', 'Борис']], 'Турция');
    const b = await uploadList(h, [['Телефон', 'Имя', 'Тур'], ['89130000002', 'Борис второй', 'Анталья'], ['89130000003', 'Вера', 'Кемер']], 'Египет');
    const ids = [((await a.json()) as { id: number }).id, ((await b.json()) as { id: number }).id];
    const created = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Два списка', listIds: ids, template: '{{Имя}}: {{Тур|тур}}', kind: 'service' }) });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: number };
    const page = await pageSession(h);
    const live = JSON.parse((await page.get(`/campaigns/${id}/live`)).html) as { columns: string[]; messages: Array<{ phone: string; fields: string[] }> };
    assert.deepEqual(live.columns, ['Телефон', 'Имя', 'Тур']);
    assert.deepEqual(live.messages.map((m) => [m.phone, ...m.fields.slice(1)]), [
      ['+79130000001', 'Анна', ''],
      ['+79130000002', 'Борис', ''],
      ['+79130000003', 'Вера', 'Кемер'],
    ], 'one message per number, the fields of the first list');
    const csv = (await (await h.api(`/campaigns/${id}/export?format=csv`)).text()).replace(/^\ufeff/, '');
    assert.match(csv, /^Строка;Номер;Телефон;Имя;Тур;Текст SMS;/);
  });
});
