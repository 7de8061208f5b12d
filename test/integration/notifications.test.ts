/**
 * Notifications through the whole service: the dialplan's `UserEvent(SimcastNotify,…)` written by
 * the chan_dongle simulator over TCP exactly as Asterisk writes it, the JSON API (templates,
 * Idempotency-Key), the guards (landline, stop-list, repeat, window), and two instances on one
 * PostgreSQL database with one PBX each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openPostgres } from '../../src/db/knex.js';
import { createLogger } from '../../src/logger.js';
import { localTime } from '../../src/notifications/notification-policy.js';
import { startService, type RunningService } from '../../src/service.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { localParts } from '../../src/scheduling/zoned-time.js';
import { startHarness, testModems, testSettings, type Harness } from '../helpers/harness.js';

interface NotificationJson { id: number; phone: string; text: string; state: string; error: string | null; template: string | null; createdAt: string }

async function json<T>(res: Response, status?: number): Promise<T> {
  if (status !== undefined) assert.equal(res.status, status, await res.clone().text());
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const notify = (phone: string, template: string, extra: Array<[string, string]> = []): Array<[string, string]> => [['Phone', phone], ['Template', template], ...extra];

describe('notifications: dialplan UserEvent and API', () => {
  let h: Harness;
  const stats = () => h.service.notifications.dialplanStats();
  /** Injects an event and waits until the service has judged it; returns the outcome counters' change. */
  async function inject(headers: Array<[string, string]>, channel: Record<string, string> = {}): Promise<string> {
    const before = stats();
    h.simulator.injectUserEvent('SimcastNotify', headers, channel);
    const afterStats = await until('the event to be handled', () => (stats().total > before.total ? stats() : undefined));
    const changed = Object.entries(afterStats).filter(([k, v]) => k !== 'total' && v !== before[k as keyof typeof before]).map(([k]) => k);
    assert.equal(changed.length, 1);
    return changed[0]!;
  }
  const sentTo = (sim: AmiSimulator, phone: string) => sim.sent.filter((s) => s.number === phone);

  before(async () => {
    h = await startHarness();
    await until('the gateway to connect', () => h.service.gateway.isConnected());
    await json(await h.api('/notification-templates/missed-call', {
      method: 'PUT',
      body: JSON.stringify({ text: 'Мы пропустили ваш звонок в {{time}} на номер {{Called}}. Перезвоним!', repeatGuardMinutes: 1440, keepWindow: 'any' }),
    }), 201);
  });
  after(() => h.close());

  test('templates: PUT creates (201) then updates (200), validated, listed, audited; staff tokens cannot', async () => {
    const body = JSON.stringify({ text: 'Заказ {{Заказ}} готов', repeatGuardMinutes: 0 });
    const created = await json<{ name: string; keepWindow: string; repeatGuardMinutes: number }>(await h.api('/notification-templates/order-ready', { method: 'PUT', body }), 201);
    assert.deepEqual([created.name, created.keepWindow, created.repeatGuardMinutes], ['order-ready', 'setting', 0]);
    await json(await h.api('/notification-templates/order-ready', { method: 'PUT', body }), 200);
    await json(await h.api('/notification-templates/Bad_Name', { method: 'PUT', body }), 422);
    await json(await h.api('/notification-templates/x', { method: 'PUT', body: JSON.stringify({ text: '{{Заказ}' }) }), 422);
    await json(await h.api('/notification-templates/x', { method: 'PUT', body: JSON.stringify({ text: 'a', keepWindow: 'later' }) }), 422);
    await json(await h.api('/notification-templates/x', { method: 'PUT', body: JSON.stringify({ text: 'a', repeatGuardMinutes: -1 }) }), 422);
    const list = await json<{ items: Array<{ name: string }> }>(await h.api('/notification-templates'), 200);
    assert.deepEqual(list.items.map((t) => t.name), ['missed-call', 'order-ready']);
    const audit = await h.audit.list({ action: 'notification-template.save' });
    assert.equal(audit.length, 3);
    assert.equal(audit[0]!.target, 'notification-template:order-ready');

    const { TokensRepo } = await import('../../src/auth/tokens.js');
    const staff = await new TokensRepo(h.testDb.db.knex).create('staff-token', { role: 'staff' });
    const res = await fetch(`${h.service.url}/api/v1/notification-templates/order-ready`, {
      method: 'PUT', body, headers: { authorization: `Bearer ${staff.token}`, 'content-type': 'application/json' },
    });
    assert.equal(res.status, 403);
  });

  test('a SimcastNotify event sends exactly one SMS with the template filled in; a second within the guard sends none', async () => {
    const phone = '+79161230001';
    assert.equal(await inject(notify(phone, 'missed-call', [['Called', '201'], ['CallerName', 'Анна']]), { CallerIDNum: phone }), 'queued');
    const [sms] = await until('the SMS', () => (sentTo(h.simulator, phone).length ? sentTo(h.simulator, phone) : undefined));
    const { items } = await h.service.notifications.list({ template: 'missed-call', limit: 10, offset: 0 });
    const note = items.find((n) => n.phone === phone)!;
    assert.equal(note.template, 'missed-call');
    const expected = `Мы пропустили ваш звонок в ${localTime(note.createdAt!, 'Europe/Moscow')} на номер 201. Перезвоним!`;
    assert.equal(note.text, expected);
    assert.equal(sms!.text, expected);

    assert.equal(await inject(notify(phone, 'missed-call', [['Called', '202']])), 'repeat');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sentTo(h.simulator, phone).length, 1);
    const again = await h.service.notifications.list({ template: 'missed-call', limit: 10, offset: 0 });
    const skipped = again.items.find((n) => n.phone === phone && n.state === 'skipped')!;
    assert.match(skipped.error!, /повтор/);
  });

  test('a stop-listed caller gets nothing; a landline caller is noted, not an error', async () => {
    const stopped = '+79161230002';
    await json(await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: stopped, reason: 'просил не писать' }) }), 201);
    assert.equal(await inject(notify(stopped, 'missed-call', [['Called', '201']])), 'stop-list');
    assert.equal(await inject(notify('+74951234567', 'missed-call', [['Called', '201']])), 'landline');
    assert.equal(await inject(notify('84951234567', 'missed-call', [['Called', '201']])), 'landline');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sentTo(h.simulator, stopped).length, 0);
    assert.equal(h.simulator.sent.filter((s) => s.number.startsWith('+7495')).length, 0);
    assert.equal(stats().error, 0);
  });

  test('malformed events are counted and ignored; the service keeps working', async () => {
    assert.equal(await inject([['Template', 'missed-call'], ['Called', '201']]), 'malformed');
    assert.equal(await inject(notify('+79161230003', 'no-such-template', [['Called', '201']])), 'unknown-template');
    assert.equal(await inject(notify('+79161230003', 'missed-call', [['Called', 'x'.repeat(5000)]])), 'malformed');
    assert.equal(await inject(notify('+79161230003', 'missed-call', [['Called', '2\u000701']])), 'malformed');
    assert.equal(await inject(notify('+79161230003', 'missed-call', [['Called', '\u001b[2J']])), 'malformed');
    assert.equal(await inject(notify('+79161230003', 'missed-call')), 'bad-text', 'no {{Called}}: no SMS with a hole');
    assert.equal(sentTo(h.simulator, '+79161230003').length, 0);
    // Still alive: a good event goes out.
    assert.equal(await inject(notify('+79161230003', 'missed-call', [['Called', '203']])), 'queued');
    await until('the SMS', () => sentTo(h.simulator, '+79161230003').length === 1);
    const s = stats();
    assert.ok(s.malformed >= 4 && s['unknown-template'] >= 1 && s.error === 0, JSON.stringify(s));
  });

  test('API: {phone, template, fields}; guarded out answers 200 skipped; unknown template and holes are 422', async () => {
    const phone = '+79161230004';
    const first = await json<NotificationJson>(await h.api('/notifications', {
      method: 'POST', body: JSON.stringify({ phone, template: 'missed-call', fields: { Called: '204' } }),
    }), 201);
    assert.equal(first.template, 'missed-call');
    assert.match(first.text, /на номер 204\./);
    const repeat = await json<NotificationJson>(await h.api('/notifications', {
      method: 'POST', body: JSON.stringify({ phone, template: 'missed-call', fields: { Called: '204' } }),
    }), 200);
    assert.equal(repeat.state, 'skipped');
    assert.match(repeat.error!, /повтор/);
    await json(await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone, template: 'nope', fields: {} }) }), 422);
    await json(await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '+79161230005', template: 'missed-call', fields: {} }) }), 422);
    await json(await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone, template: 'missed-call', text: 'x' }) }), 422);
    const got = await json<NotificationJson>(await h.api(`/notifications/${first.id}`), 200);
    assert.equal(got.id, first.id);
    await until('the SMS', () => sentTo(h.simulator, phone).length === 1);
  });

  test('API: an Idempotency-Key never sends twice, also when 5 identical requests race', async () => {
    const phone = '+79161230006';
    const send = (key: string) => h.api('/notifications', {
      method: 'POST', body: JSON.stringify({ phone, text: 'Ваш заказ готов' }), headers: { 'idempotency-key': key },
    });
    const first = await json<NotificationJson>(await send('order-1'), 201);
    const second = await json<NotificationJson>(await send('order-1'), 200);
    assert.equal(second.id, first.id);

    const racing = await Promise.all(Array.from({ length: 5 }, () => send('order-2')));
    const statuses = racing.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(racing.map(async (r) => ((await r.json()) as NotificationJson).id)));
    assert.equal(ids.size, 1);
    assert.ok(!ids.has(first.id));
    await until('two SMS', () => sentTo(h.simulator, phone).length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sentTo(h.simulator, phone).length, 2, 'one per key');
    await json(await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone, text: 'x' }), headers: { 'idempotency-key': 'a b' } }), 422);

    // A retry answers with the first notification even after its template changed so that the
    // same request would no longer validate (a new required field).
    await json(await h.api('/notification-templates/retry-safe', { method: 'PUT', body: JSON.stringify({ text: 'Заказ {{order}} готов' }) }), 201);
    const byTemplate = () => h.api('/notifications', {
      method: 'POST', body: JSON.stringify({ phone, template: 'retry-safe', fields: { order: '7' } }), headers: { 'idempotency-key': 'order-3' },
    });
    const made = await json<NotificationJson>(await byTemplate(), 201);
    await json(await h.api('/notification-templates/retry-safe', { method: 'PUT', body: JSON.stringify({ text: 'Заказ {{order}} готов, {{address}}' }) }), 200);
    assert.equal((await json<NotificationJson>(await byTemplate(), 200)).id, made.id);
  });

  test('outside the window: "drop" skips, "queue" waits, "any" goes', async () => {
    const hour = localParts(new Date(), 'Europe/Moscow').hour;
    const hh = (n: number) => `${String(n % 24).padStart(2, '0')}:00`;
    await json(await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ window: { from: hh(hour + 2), to: hh(hour + 3) } }) }), 200);
    try {
      for (const [name, keepWindow] of [['w-drop', 'drop'], ['w-queue', 'queue'], ['w-any', 'any']]) {
        await json(await h.api(`/notification-templates/${name}`, { method: 'PUT', body: JSON.stringify({ text: `окно ${keepWindow}`, keepWindow }) }), 201);
      }
      assert.equal(await inject(notify('+79161230007', 'w-drop')), 'outside-window');
      assert.equal(await inject(notify('+79161230008', 'w-queue')), 'queued');
      assert.equal(await inject(notify('+79161230009', 'w-any')), 'queued');
      await until('the any-hour SMS', () => sentTo(h.simulator, '+79161230009').length === 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sentTo(h.simulator, '+79161230007').length, 0);
      assert.equal(sentTo(h.simulator, '+79161230008').length, 0);
      const waiting = await h.service.notifications.list({ template: 'w-queue', limit: 10, offset: 0 });
      assert.equal(waiting.items[0]!.state, 'waiting');
    } finally {
      await json(await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ window: testSettings.window }) }), 200);
    }
    // The window open again: the queued one goes.
    h.service.dispatcher.notify();
    await until('the queued SMS', () => sentTo(h.simulator, '+79161230008').length === 1);
  });

  describe('two instances on one database, one PBX each', () => {
    let sim2: AmiSimulator;
    let second: RunningService;
    before(async () => {
      sim2 = await AmiSimulator.start({ modems: testModems, delayPerPartMs: 20, authFailDelayMs: 20 });
      const config = loadConfig({
        PORT: '0', DATABASE_URL: h.testDb.url, AMI_HOST: '127.0.0.1', AMI_PORT: String(sim2.port), AMI_USER: 'simcast', AMI_SECRET: 'simcast',
        INSTANCE_ID: 'second-pbx', SESSION_SECRET: 'test-session-secret-0123456789',
      });
      second = await startService(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), undefined, openPostgres(h.testDb.url));
      await until('the second gateway', () => second.gateway.isConnected());
    });
    after(async () => {
      await second.close();
      await sim2.close();
    });

    test("each instance sends its own PBX's events once", async () => {
      const a = '+79161230010';
      const b = '+79161230011';
      h.simulator.injectUserEvent('SimcastNotify', notify(a, 'missed-call', [['Called', '210']]));
      sim2.injectUserEvent('SimcastNotify', notify(b, 'missed-call', [['Called', '211']]));
      await until('both SMS', () => sentTo(h.simulator, a).length + sentTo(sim2, b).length + sentTo(h.simulator, b).length + sentTo(sim2, a).length >= 2);
      await new Promise((r) => setTimeout(r, 400));
      const all = [...h.simulator.sent, ...sim2.sent];
      assert.equal(all.filter((s) => s.number === a).length, 1);
      assert.equal(all.filter((s) => s.number === b).length, 1);
      assert.equal(second.notifications.dialplanStats().queued, 1);
    });

    test('the same caller on both PBXs at once: the repeat guard lets one SMS through', async () => {
      const c = '+79161230012';
      const before1 = h.service.notifications.dialplanStats().total;
      const before2 = second.notifications.dialplanStats().total;
      for (let i = 0; i < 3; i++) {
        h.simulator.injectUserEvent('SimcastNotify', notify(c, 'missed-call', [['Called', '212']]));
        sim2.injectUserEvent('SimcastNotify', notify(c, 'missed-call', [['Called', '212']]));
      }
      await until('all six handled', () => h.service.notifications.dialplanStats().total - before1 === 3 && second.notifications.dialplanStats().total - before2 === 3);
      await until('one SMS', () => [...h.simulator.sent, ...sim2.sent].some((s) => s.number === c));
      await new Promise((r) => setTimeout(r, 400));
      assert.equal([...h.simulator.sent, ...sim2.sent].filter((s) => s.number === c).length, 1);
      const rows = await h.testDb.db.knex('messages').where({ phone: c }).select('state');
      assert.equal(rows.length, 6);
      assert.equal(rows.filter((r: { state: string }) => r.state === 'skipped').length, 5);
    });
  });
});
