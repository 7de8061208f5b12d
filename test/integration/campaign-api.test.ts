import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { campaignFinished, startHarness, uploadList, type Harness } from '../helpers/harness.js';

const rows = [
  ['Телефон', 'Имя', 'Заказ', 'Сумма'],
  ['8 (912) 345-67-89', 'Анна', '84315', '1460'],
  [79161234567, 'Сергей Михайлович', '84316', '990'],
  ['+7 903 111-22-33', 'Ольга', '84317', '2500'],
  ['8(845)-2-255-775', 'Саратов', '1', '1'],
  ['не номер', 'Мусор', '2', '2'],
  ['89123456789', 'Анна (повтор)', '84315', '1460'],
  ['9051234567', '', '84318', '100'],
  ['+7 (926) 000-11-22', 'Пётр', '84319', '300'],
];
const template = '{{Имя}}, ваш заказ №{{Заказ}} готов, к оплате {{Сумма}} руб.';

describe('campaign through the API, PostgreSQL and the simulator over TCP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test('every API route needs a valid token', async () => {
    const none = await fetch(`${h.service.url}/api/v1/campaigns/1`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'UNAUTHORIZED');
    const wrong = await fetch(`${h.service.url}/api/v1/modems`, { headers: { authorization: 'Bearer sc_nope' } });
    assert.equal(wrong.status, 401);
  });

  test('pages need a login', async () => {
    const res = await fetch(`${h.service.url}/campaigns`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/login/);
  });

  test('bad input gets a 4xx JSON error, never a 500', async () => {
    const junk = new FormData();
    junk.append('file', new Blob([new TextEncoder().encode('PK\x03\x04 definitely not a zip')]), 'list.xlsx');
    const bad = await h.api('/lists', { method: 'POST', body: junk });
    assert.equal(bad.status, 422);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BAD_FILE');

    const noFile = await h.api('/lists', { method: 'POST', body: new FormData() });
    assert.equal(noFile.status, 422);

    const malformed = await h.api('/campaigns', { method: 'POST', body: '{"name": ' });
    assert.equal(malformed.status, 400);
    const missing = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'x' }) });
    assert.equal(missing.status, 422);
    const noList = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'x', listId: 999999, template: 'hi', kind: 'service' }) });
    assert.equal(noList.status, 404);
    assert.equal((await h.api('/campaigns/abc')).status, 404);
    assert.equal((await h.api('/campaigns/99999999')).status, 404);
    const badSettings = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ sendPauseSeconds: -1 }) });
    assert.equal(badSettings.status, 422);
    const unknownSetting = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ colour: 'red' }) });
    assert.equal(unknownSetting.status, 422);
    assert.match(((await unknownSetting.json()) as { error: { message: string } }).error.message, /неизвестные поля: colour/);
    const english = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ maxParts: 0 }) });
    assert.match(((await english.json()) as { error: { message: string } }).error.message, /^maxParts: не меньше 1$/);

    const hugeId = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'x', listId: 1e10, template: 'hi', kind: 'service' }) });
    assert.equal(hugeId.status, 422);
    const nul = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '89123456789', text: 'a\u0000b' }) });
    assert.equal(nul.status, 400);
    const noBoundary = await h.api('/lists', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    assert.equal(noBoundary.status, 400);
    assert.equal(((await noBoundary.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    const cut = await h.api('/lists', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc' });
    assert.equal(cut.status, 400);
  });

  test('upload → campaign → start → every sendable row sent exactly once, with its own text', async () => {
    const upload = await uploadList(h, rows);
    assert.equal(upload.status, 201);
    const list = (await upload.json()) as {
      id: number;
      columns: string[];
      phoneColumn: string;
      imported: number;
      duplicates: number;
      rejected: Array<{ row: number; value: string; reason: string }>;
    };
    assert.deepEqual(list.columns, ['Телефон', 'Имя', 'Заказ', 'Сумма']);
    assert.equal(list.phoneColumn, 'Телефон');
    assert.equal(list.imported, 5);
    assert.equal(list.duplicates, 1);
    assert.deepEqual(
      list.rejected.map((r) => r.row),
      [5, 6],
    );

    const unknownField = await h.api('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'Опечатка', listId: list.id, template: 'Здравствуйте, {{Имя клиента}}', kind: 'service' }),
    });
    assert.equal(unknownField.status, 422);
    assert.match(((await unknownField.json()) as { error: { message: string } }).error.message, /Имя клиента/);

    const created = await h.api('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'Заказы готовы', listId: list.id, template, kind: 'service' }),
    });
    assert.equal(created.status, 201);
    const campaign = (await created.json()) as { id: number; status: string; recipients: number; parts: number; cost: number; problems: Array<{ row: number }> };
    assert.equal(campaign.status, 'draft');
    assert.equal(campaign.recipients, 5);
    assert.deepEqual(
      campaign.problems.map((p) => p.row),
      [8],
      'the row with an empty Имя is flagged before sending',
    );
    assert.equal(campaign.parts, 4);
    assert.equal(campaign.cost, 0.24);

    const finished = campaignFinished(h.service, campaign.id);
    const start = await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' });
    assert.equal(start.status, 200);
    assert.equal((await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' })).status, 409, 'a second start is a conflict');
    await finished;

    const status = (await (await h.api(`/campaigns/${campaign.id}`)).json()) as { status: string; counts: Record<string, number> };
    assert.equal(status.status, 'finished');
    assert.deepEqual(status.counts, { waiting: 0, sending: 0, sent: 4, delivered: 0, failed: 0, skipped: 1, unknown: 0 });

    const page = (await (await h.api(`/campaigns/${campaign.id}/messages?pageSize=10`)).json()) as {
      total: number;
      items: Array<{ phone: string; text: string; state: string; modem: string | null; sentAt: string | null }>;
    };
    assert.equal(page.total, 5);
    const anna = page.items.find((m) => m.phone === '+79123456789');
    assert.equal(anna?.text, 'Анна, ваш заказ №84315 готов, к оплате 1460 руб.');
    assert.equal(anna?.state, 'sent');
    assert.ok(anna?.sentAt);
    assert.match(anna?.modem ?? '', /^dongle[01]$/);

    // The simulator's own record: each number got exactly the text we stored, once.
    const transmitted = h.simulator.sent.filter((s) => s.outcome === 'sent');
    assert.equal(transmitted.length, 4);
    assert.equal(new Set(transmitted.map((s) => s.number)).size, 4);
    for (const s of transmitted) {
      const m = page.items.find((i) => i.phone === s.number);
      assert.equal(s.text, m?.text);
    }
    // Both modems were used.
    assert.equal(new Set(transmitted.map((s) => s.device)).size, 2);
  });

  test('modems and settings through the API', async () => {
    const modems = (await (await h.api('/modems')).json()) as Array<{ device: string; imsi: string; ready: boolean }>;
    assert.deepEqual(
      modems.map((m) => [m.device, m.imsi, m.ready]),
      [
        ['dongle0', '250990000000001', true],
        ['dongle1', '250990000000002', true],
      ],
    );
    const patched = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ sendPauseSeconds: 2.5 }) });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as { sendPauseSeconds: number }).sendPauseSeconds, 2.5);
    await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ sendPauseSeconds: 0 }) });
  });

  test('names have a limit: a 100 000-character list or campaign name is a clear 422, nothing stored', async () => {
    const before = (await h.service.db.knex('lists').count<{ count: number }[]>('* as count'))[0]!.count;
    const huge = await uploadList(h, rows, 'Я'.repeat(100_000));
    assert.equal(huge.status, 422);
    const body = (await huge.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'VALIDATION');
    assert.match(body.error.message, /не больше 200 символов/);
    assert.equal((await h.service.db.knex('lists').count<{ count: number }[]>('* as count'))[0]!.count, before);

    const list = (await (await uploadList(h, rows, 'Я'.repeat(200))).json()) as { id: number; name: string };
    assert.equal(list.name.length, 200);
    const campaign = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(100_000), listId: list.id, template, kind: 'service' }) });
    assert.equal(campaign.status, 422);
  });

  test('a known API path with a wrong method is 405 with Allow; an unknown path stays 404', async () => {
    const del = await h.api('/campaigns', { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'POST');
    assert.equal(((await del.json()) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED');
    const put = await h.api('/campaigns/1', { method: 'PUT', body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    const settings = await h.api('/settings', { method: 'POST', body: '{}' });
    assert.equal(settings.headers.get('allow'), 'GET, HEAD, PATCH');
    assert.equal((await h.api('/nowhere', { method: 'DELETE' })).status, 404);
  });

  test('a text too long for one AMI line is flagged before Start: campaign problems, notifications, maxParts', async () => {
    const list = (await (await uploadList(h, rows, 'Длинные')).json()) as { id: number };
    const long = 'x'.repeat(1000); // 7 GSM-7 parts: within maxParts 7, but a 1009-byte Message line
    const created = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Длинная', listId: list.id, template: `${long}{{Заказ}}`, kind: 'service' }) });
    assert.equal(created.status, 201);
    const campaign = (await created.json()) as { recipients: number; problems: Array<{ problem: string }> };
    assert.ok(campaign.problems.length > 0);
    assert.equal(campaign.problems.length, campaign.recipients);
    assert.ok(campaign.problems.every((p) => /слишком длинный для передачи в Asterisk/.test(p.problem)));

    const note = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '+79123456789', text: long }) });
    assert.equal(note.status, 422);
    assert.match(((await note.json()) as { error: { message: string } }).error.message, /Asterisk/);

    const tooMany = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ maxParts: 10 }) });
    assert.equal(tooMany.status, 422);
    assert.match(((await tooMany.json()) as { error: { message: string } }).error.message, /не больше 7/);
  });
});
