import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { campaignFinished, pageSession, startHarness, uploadList, type Harness } from '../helpers/harness.js';

interface SimJson {
  imsi: string;
  device: string | null;
  ready: boolean;
  enabled: boolean;
  dailyLimit: number;
  monthlyLimit: number;
  sentToday: number;
  minPauseSeconds: number;
  maxPauseSeconds: number;
  pricePerPart: number;
  sendSeconds: number;
  sendSecondsSamples: number;
}

describe('SIMs, notifications and campaign options through the API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ delayPerPartMs: 30 });
    // The dispatcher registers the SIMs it sees on its first passes.
    await once(h.service.dispatcher.events, 'tick');
  });
  after(async () => {
    await h.close();
  });

  async function sims(): Promise<SimJson[]> {
    return (await (await h.api('/sims')).json()) as SimJson[];
  }

  test('GET /sims lists every SIM with its limits; PATCH changes them, with clear errors', async () => {
    const list = await sims();
    assert.deepEqual(list.map((s) => [s.imsi, s.device, s.ready, s.dailyLimit, s.monthlyLimit]), [
      ['250990000000001', 'dongle0', true, 100, 3000],
      ['250990000000002', 'dongle1', true, 100, 3000],
    ]);
    const patched = await h.api('/sims/250990000000002', { method: 'PATCH', body: JSON.stringify({ dailyLimit: 50, pricePerPart: 0.1 }) });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as SimJson).dailyLimit, 50);

    const inverted = await h.api('/sims/250990000000002', { method: 'PATCH', body: JSON.stringify({ minPauseSeconds: 50, maxPauseSeconds: 10 }) });
    assert.equal(inverted.status, 422);
    const negative = await h.api('/sims/250990000000002', { method: 'PATCH', body: JSON.stringify({ dailyLimit: -1 }) });
    assert.equal(negative.status, 422);
    assert.match(((await negative.json()) as { error: { message: string } }).error.message, /dailyLimit/);
    const unknownField = await h.api('/sims/250990000000002', { method: 'PATCH', body: JSON.stringify({ colour: 'red' }) });
    assert.equal(unknownField.status, 422);
    const missing = await h.api('/sims/999', { method: 'PATCH', body: JSON.stringify({ enabled: false }) });
    assert.equal(missing.status, 404);
  });

  test('campaign options: SIM choice and ignoring the window are checked', async () => {
    const list = (await (await uploadList(h, [['Телефон', 'Имя'], ['89120000001', 'Анна']])).json()) as { id: number };
    const advertisingAnyTime = await h.api('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'Ночная реклама', listId: list.id, template: 'Скидки!', kind: 'advertising', ignoreWindow: true }),
    });
    assert.equal(advertisingAnyTime.status, 422);
    const unknownSim = await h.api('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', listId: list.id, template: 'Привет', kind: 'service', sims: ['250990000009999'] }),
    });
    assert.equal(unknownSim.status, 422);
    assert.match(((await unknownSim.json()) as { error: { message: string } }).error.message, /250990000009999/);
  });

  test('a campaign restricted to one SIM sends only through it; GET tells its forecast', async () => {
    const rows = [['Телефон', 'Имя'], ...Array.from({ length: 6 }, (_, i) => [`8912100000${i}`, `Клиент ${i}`])];
    const list = (await (await uploadList(h, rows)).json()) as { id: number };
    const created = await h.api('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'Только dongle1', listId: list.id, template: '{{Имя}}, заказ готов', kind: 'service', sims: ['250990000000002'], ignoreWindow: true }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: number };
    const draft = (await (await h.api(`/campaigns/${id}`)).json()) as { sims: string[]; ignoreWindow: boolean; forecast: { finishAt: string | null; text: string } };
    assert.deepEqual(draft.sims, ['250990000000002']);
    assert.equal(draft.ignoreWindow, true);
    assert.ok(draft.forecast.finishAt, draft.forecast.text);
    assert.match(draft.forecast.text, /окончание|сегодня/);

    const done = campaignFinished(h.service, id);
    await h.api(`/campaigns/${id}/start`, { method: 'POST' });
    await done;
    const devices = new Set(h.simulator.sent.filter((s) => s.number.startsWith('+791210000')).map((s) => s.device));
    assert.deepEqual([...devices], ['dongle1']);
    const sim = (await sims()).find((s) => s.imsi === '250990000000002');
    assert.ok((sim?.sentToday ?? 0) >= 6, 'the ledger counted the parts');

    // Its pace is learned from those 6 (30 ms a part in the simulator); the idle SIM keeps the default.
    assert.equal(sim?.sendSecondsSamples, 6);
    assert.ok(sim.sendSeconds >= 0.03 && sim.sendSeconds < 1, `learned ${sim.sendSeconds} s`);
    const idle = (await sims()).find((s) => s.imsi === '250990000000001');
    assert.deepEqual([idle?.sendSeconds, idle?.sendSecondsSamples], [3, 0]);
    const page = await (await pageSession(h)).get('/modems');
    assert.match(page.html, /≈ 0,\d+ с на SMS \(по последним 6\)/);
    assert.match(page.html, /нет данных — считаем 3 с/);
  });

  test('notifications: validated, sent ahead of a running campaign, state readable', async () => {
    const bad = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '8 (495) 123-45-67', text: 'x' }) });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^phone:/);
    const empty = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '89123456789', text: '  ' }) });
    assert.equal(empty.status, 422);

    // A long campaign on both modems, slowed down so that it is still running.
    h.simulator.setDelay('dongle0', 150);
    h.simulator.setDelay('dongle1', 150);
    const rows = [['Телефон', 'Имя'], ...Array.from({ length: 30 }, (_, i) => [`8913200${String(i).padStart(4, '0')}`, `Клиент ${i}`])];
    const list = (await (await uploadList(h, rows)).json()) as { id: number };
    const { id } = (await (await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Длинная', listId: list.id, template: '{{Имя}}, привет', kind: 'service', ignoreWindow: true }) })).json()) as { id: number };
    await h.api(`/campaigns/${id}/start`, { method: 'POST' });
    await once(h.service.dispatcher.events, 'message');

    const queued = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '+7 912 555-00-11', text: 'Ваш заказ 84315 готов' }) });
    assert.equal(queued.status, 201);
    const notification = (await queued.json()) as { id: number; state: string; phone: string };
    assert.equal(notification.phone, '+79125550011');
    for (;;) {
      const [e] = (await once(h.service.dispatcher.events, 'message')) as [{ id: number; state: string }];
      if (e.id === notification.id && e.state === 'sent') break;
    }
    const campaignSentBefore = h.simulator.sent.findIndex((s) => s.number === '+79125550011');
    assert.ok(campaignSentBefore >= 0 && campaignSentBefore <= h.simulator.sent.length);
    const status = (await (await h.api(`/campaigns/${id}`)).json()) as { counts: { waiting: number } };
    assert.ok(status.counts.waiting > 0, 'the notification did not wait for the campaign to end');
    const read = (await (await h.api(`/notifications/${notification.id}`)).json()) as { state: string };
    assert.equal(read.state, 'sent');
    await h.api(`/campaigns/${id}/cancel`, { method: 'POST' });
    h.simulator.setDelay('dongle0', 30);
    h.simulator.setDelay('dongle1', 30);
  });
});
