/**
 * «Удалить персональные данные» (152-FZ) through the whole service: real PostgreSQL, the
 * chan_dongle simulator, the JSON API and the pages. After the erasure no text or JSON column of
 * any table may hold the person's number, name or order, and the number never comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { TokensRepo } from '../../src/auth/tokens.js';
import { UsersRepo } from '../../src/auth/users-repo.js';
import { campaignFinished, pageSession, startHarness, uploadList, type Harness } from '../helpers/harness.js';

const person = '+79167770001';
const traces = ['9167770001', 'Евлампия', 'ZX-40417'];
const header = ['Телефон', 'Имя', 'Заказ', 'Примечание'];
const rows = [
  header,
  [person, 'Евлампия Кузьминична', 'ZX-40417', ''],
  ['+79161230001', 'Пётр Сидоров', 'ZX-11111', 'жена: 8 (916) 777-00-01'], // someone else's row mentions the number
  ['8 916 777-00-01', 'Евлампия К.', 'ZX-40417', ''], // a duplicate row: lists.duplicates holds the number
  ['8 916 777-00-01, 8 916 777-00-02', 'Евлампия и муж', 'ZX-40417', ''], // two numbers in a cell: the first is a duplicate, lists.notes quotes the cell
];

interface CampaignView { id: number; status: string; counts: Record<string, number> }
interface Erasure { id: number; requestedAt: string; erasedAt: string; requestedBy: string; counts: Record<string, number> }

async function json<T>(res: Response, status?: number): Promise<T> {
  if (status !== undefined) assert.equal(res.status, status, await res.clone().text());
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Every text, varchar, json/jsonb and tsvector (the report's search words) column of every table (knex's own tables aside) where one of
 * `needles` occurs; numbers are also looked for with their separators (spaces, dashes, brackets) removed.
 */
async function tracesIn(h: Harness, needles: readonly string[]): Promise<string[]> {
  const knex = h.service.db.knex;
  const columns: Array<{ table_name: string; column_name: string }> = (
    await knex.raw(
      `select table_name, column_name from information_schema.columns
        where table_schema = 'public' and table_name not like 'knex\\_%'
          and data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'tsvector')
        order by table_name, column_name`,
    )
  ).rows;
  assert.ok(columns.length > 30, `columns found: ${columns.length}`);
  assert.ok(columns.some((c) => c.table_name === 'sessions' && c.column_name === 'sess'));
  const hits: string[] = [];
  for (const { table_name, column_name } of columns) {
    const value = `"${column_name}"::text`;
    for (const needle of needles) {
      const result = await knex.raw(
        `select count(*)::int as n from "${table_name}" where strpos(${value}, ?) > 0 or strpos(regexp_replace(${value}, '[[:space:]()-]', '', 'g'), ?) > 0`,
        [needle, needle],
      );
      if (result.rows[0].n > 0) hits.push(`${table_name}.${column_name} ∋ ${needle}`);
    }
  }
  return hits;
}

describe('erasure of a person\'s data (152-FZ)', () => {
  let h: Harness;
  let campaignId: number;
  let countsBefore: Record<string, number>;
  let staffToken: string;

  before(async () => {
    h = await startHarness({ delayPerPartMs: 20 });
    const staff = await new TokensRepo(h.service.db.knex).create('crm-staff');
    await h.service.db.knex('api_tokens').where({ id: staff.id }).update({ role: 'staff' });
    staffToken = staff.token;
    await new UsersRepo(h.service.db.knex).upsert('olga', await hashPassword('staff-pass-12'), 'staff');
  });
  after(() => h.close());

  test('the person is in a list, a sent campaign, the inbox, the consent register, a notification and the stop-list', async () => {
    const list = await json<{ id: number; imported: number; duplicates: number; rejected: Array<{ value: string }>; notes: Array<{ row: number; value: string }>; suppressed: number }>(await uploadList(h, rows, 'Заказы'), 201);
    assert.deepEqual([list.imported, list.duplicates, list.rejected.length, list.suppressed], [2, 2, 0, 0]);
    assert.deepEqual(list.notes.map((n) => [n.row, n.value]), [[5, '8 916 777-00-01, 8 916 777-00-02']]);
    // The uploaded file is kept (bytea) for re-reading: erasure must delete it.
    assert.equal((await h.service.db.knex('list_files').where({ list_id: list.id })).length, 1);
    const campaign = await json<{ id: number }>(
      await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Готовность заказов', listId: list.id, template: '{{Имя}}, заказ {{Заказ}} готов', kind: 'service' }) }),
      201,
    );
    campaignId = campaign.id;
    await h.api(`/campaigns/${campaignId}/start`, { method: 'POST' });
    await campaignFinished(h.service, campaignId);
    const view = await json<CampaignView>(await h.api(`/campaigns/${campaignId}`), 200);
    assert.equal(view.status, 'finished');
    assert.equal(view.counts.sent, 2);
    countsBefore = view.counts;

    h.simulator.injectIncomingSms('dongle0', person, 'Евлампия: спасибо');
    await until('the incoming SMS', async () => {
      const { items } = await json<{ items: Array<{ from: string }> }>(await h.api('/inbox'));
      return items.find((m) => m.from === person);
    });
    await json(await h.api('/consents', { method: 'POST', body: JSON.stringify({ phone: person, source: 'анкета в магазине', document: 'анкета Евлампии к заказу ZX-40417' }) }), 201);
    const notification = await json<{ id: number }>(await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: person, text: 'Евлампия, заказ ZX-40417 доставлен' }) }), 201);
    await until('the notification sent', async () => {
      const n = await json<{ state: string }>(await h.api(`/notifications/${notification.id}`));
      return n.state === 'sent' ? n : undefined;
    });
    await json(await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: person, reason: 'Евлампия просила по телефону' }) }), 201);
    // A saved campaign text that quotes the number.
    await json(await h.api('/templates', { method: 'POST', body: JSON.stringify({ name: 'Перезвонить', text: '{{Имя}}, перезвоните нам: 8 (916) 777-00-01' }) }), 201);
    assert.ok((await tracesIn(h, traces)).length > 5, 'the traces are there before the erasure');
  });

  test('only an admin token may erase or read the register (403 for staff), a bad number is a 422', async () => {
    const asStaff = (init: RequestInit = {}) => h.api('/erasures', { ...init, headers: { authorization: `Bearer ${staffToken}` } });
    const refused = await asStaff({ method: 'POST', body: JSON.stringify({ phone: person }), headers: { 'content-type': 'application/json' } });
    assert.equal(refused.status, 403);
    assert.equal((await json<{ error: { code: string } }>(refused)).error.code, 'FORBIDDEN');
    assert.equal((await asStaff()).status, 403);
    const bad = await h.api('/erasures', { method: 'POST', body: JSON.stringify({ phone: 'не номер' }) });
    assert.equal(bad.status, 422);
    assert.equal((await json<{ error: { code: string } }>(bad)).error.code, 'VALIDATION');
  });

  test('POST /api/v1/erasures: 201, and no text or JSON column of any table holds the number, the name or the order', async () => {
    const before = Date.now();
    const done = await json<{ phone: string; requestedAt: string; erasedAt: string; counts: Record<string, number> }>(
      await h.api('/erasures', { method: 'POST', body: JSON.stringify({ phone: '8 (916) 777-00-01' }) }),
      201,
    );
    assert.equal(done.phone, person);
    assert.ok(Date.parse(done.requestedAt) >= before - 1000 && Date.parse(done.erasedAt) >= Date.parse(done.requestedAt));
    // Consents: the given entry and the withdrawal the stop-list added.
    // Upload reports: two duplicate rows and the note quoting the cell with two numbers.
    assert.deepEqual(done.counts, { listContacts: 1, uploadReportRows: 3, messages: 2, waitingSkipped: 0, inbound: 1, mentions: 2, consents: 2, stopList: 1, listFiles: 1 });
    // bytea is not scanned by tracesIn: the stored file of the list is gone.
    assert.equal((await h.service.db.knex('list_files')).length, 0);

    assert.deepEqual(await tracesIn(h, traces), []);

    const knex = h.service.db.knex;
    assert.equal((await knex('suppressions').count<{ n: number }[]>('* as n'))[0]!.n, 1);
    const audit = await knex('audit_log').whereIn('action', ['erasure.requested', 'erasure.done']).orderBy('id');
    assert.deepEqual(audit.map((a: { action: string }) => a.action), ['erasure.requested', 'erasure.done']);
    assert.deepEqual(audit[1].details, done.counts);
  });

  test('reports keep their counts and show the marker; the list keeps its row and its columns', async () => {
    const view = await json<CampaignView>(await h.api(`/campaigns/${campaignId}`), 200);
    assert.deepEqual(view.counts, countsBefore);
    const page = await json<{ items: Array<{ phone: string; text: string; state: string }> }>(await h.api(`/campaigns/${campaignId}/messages`));
    const erased = page.items.filter((m) => m.phone.startsWith('[удалено'));
    assert.equal(erased.length, 1);
    assert.match(erased[0]!.phone, /^\[удалено #\d+\]$/);
    assert.deepEqual([erased[0]!.text, erased[0]!.state], ['[удалено по запросу]', 'sent']);

    const contact = await h.service.db.knex('list_contacts').whereNotNull('erased_at').first();
    const husband = await h.service.db.knex('list_contacts').where({ phone: '+79161230001' }).first();
    assert.deepEqual(husband.fields, { Телефон: '+79161230001', Имя: 'Пётр Сидоров', Заказ: 'ZX-11111', Примечание: '[удалено]' }, 'only the mention is erased');
    assert.deepEqual(contact.fields, { Телефон: '[удалено]', Имя: '[удалено]', Заказ: '[удалено]', Примечание: '[удалено]' });
    const session = await pageSession(h);
    const { html } = await session.get(`/campaigns/${campaignId}`);
    assert.ok(!html.includes('Евлампия'));
  });

  test('the number never comes back: an upload drops it (reported as suppressed), a campaign and a notification skip it', async () => {
    const list = await json<{ id: number; imported: number; duplicates: number; rejected: Array<{ value: string }>; suppressed: number }>(
      await uploadList(h, [header, ['8-916-777-00-01', 'Евлампия Кузьминична', 'ZX-40417'], ['+79161230002', 'Иван', 'ZX-2'], [person, 'Евлампия', 'ZX-40417'], ['+7 916 777 00 01; +7 916 777 00 03', 'Евлампия', 'ZX-40417']], 'Снова'),
      201,
    );
    // Row 5 holds the number first and another one: a duplicate of the erased row, dropped too; the
    // note quoting the cell keeps its row but not its text.
    assert.deepEqual([list.imported, list.duplicates, list.suppressed], [1, 0, 3]);
    assert.deepEqual(list.rejected, []);
    assert.deepEqual((list as unknown as { notes: Array<{ row: number; value: string }> }).notes.map((n) => [n.row, n.value]), [[5, '[удалено]']]);
    const session = await pageSession(h);
    const report = (await session.get(`/lists/${list.id}`)).html;
    assert.match(report, /data-testid="suppressed"><b>3<\/b> строки не загружены/);
    // The file held the erased number: it is not kept for re-reading, and the page says so.
    assert.equal((await h.service.db.knex('list_files').where({ list_id: list.id })).length, 0);
    assert.match(report, /data-testid="no-file"/);

    // The erased list row is still in the first list; a new campaign from it skips it at the claim.
    const first = await h.service.db.knex('lists').where({ name: 'Заказы' }).first('id');
    const mark = h.simulator.received.length;
    for (const listId of [list.id, first.id]) {
      const c = await json<{ id: number }>(
        await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: `Ещё раз ${listId}`, listId, template: '{{Имя}}, заказ {{Заказ}}', kind: 'service' }) }),
        201,
      );
      await h.api(`/campaigns/${c.id}/start`, { method: 'POST' });
      await campaignFinished(h.service, c.id);
    }
    const sentTo = h.simulator.received.slice(mark).filter((a) => a.action === 'DongleSendSMS').map((a) => a.headers.number);
    assert.deepEqual(sentTo.sort(), ['+79161230001', '+79161230002']);

    const notification = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: person, text: 'Евлампия, новый заказ' }) });
    assert.equal(notification.status, 200);
    const skipped = await json<{ state: string; error: string; phone: string; text: string }>(notification);
    // Skipped, and stored without the number or the text: the number does not come back this way either.
    assert.deepEqual([skipped.state, skipped.error, skipped.phone, skipped.text], ['skipped', 'данные удалены по запросу', '[удалено]', '[удалено по запросу]']);
    assert.deepEqual(await tracesIn(h, traces), []);

    // Erasing twice is fine: 201 again, a second request in the register with nothing left to erase.
    const again = await json<{ counts: Record<string, number> }>(await h.api('/erasures', { method: 'POST', body: JSON.stringify({ phone: person }) }), 201);
    assert.ok(Object.values(again.counts).every((n) => n === 0));
    const register = await json<{ items: Erasure[] }>(await h.api('/erasures'), 200);
    assert.equal(register.items.length, 2);
    assert.deepEqual(Object.keys(register.items[0]!).sort(), ['counts', 'erasedAt', 'id', 'requestedAt', 'requestedBy']);
    assert.equal(register.items[0]!.requestedBy, 'token:tests');
    assert.ok(!JSON.stringify(register).includes('9167770001'));
    assert.deepEqual(await tracesIn(h, traces), []);
  });

  test('the page: admins erase with the confirmation, the number is in no flash nor session; staff get 403', async () => {
    const admin = await pageSession(h);
    const page = await admin.get('/erasures');
    assert.equal(page.status, 200);
    const html = page.html;
    assert.match(html, /Удаление персональных данных/);
    assert.match(html, /Я понимаю: данные этого номера будут удалены/);
    assert.match(html, /href="\/erasures"/);

    const unconfirmed = await admin.post('/erasures', { phone: '+79165550001' });
    assert.equal(unconfirmed.status, 422);
    assert.match(unconfirmed.html, /Поставьте отметку/);
    const bad = await admin.post('/erasures', { phone: '12345', confirm: 'on' });
    assert.equal(bad.status, 422);
    const done = await admin.post('/erasures', { phone: '+79165550001', confirm: 'on' });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/erasures');
    const sessions = await h.service.db.knex('sessions').select('sess');
    assert.ok(sessions.some((s: { sess: { flash?: string } }) => s.sess.flash === 'Данные удалены. Номер больше не получит SMS.'));
    const after = (await admin.get('/erasures')).html;
    assert.match(after, /Данные удалены\. Номер больше не получит SMS\./);
    assert.match(after, /user:admin/);
    assert.deepEqual(await tracesIn(h, ['9165550001']), []);

    const staff = await pageSession(h, 'olga', 'staff-pass-12');
    const refused = await staff.get('/erasures');
    assert.equal(refused.status, 403);
    assert.ok(!(await staff.get('/campaigns')).html.includes('href="/erasures"'));
    assert.equal((await staff.post('/erasures', { phone: person, confirm: 'on' })).status, 403);
  });
});
