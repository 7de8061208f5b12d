/**
 * Consent, opt-out by reply and the inbox through the whole service: real PostgreSQL, the
 * chan_dongle simulator over TCP injecting incoming SMS as chan_dongle does, the JSON API.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { campaignFinished, startHarness, uploadList, xlsxBuffer, type Harness } from '../helpers/harness.js';

const header = ['Телефон', 'Имя'];
/** 20 recipients; the one who will opt out is last, so both campaigns reach it well after the reply. */
const people = Array.from({ length: 19 }, (_, i) => [`+7916100${String(i).padStart(4, '0')}`, `Клиент ${i}`]);
const quitter = '+79169990000';
const rows = [header, ...people, [quitter, 'Уходящий']];

interface CampaignReply { id: number; recipients: number; excluded: { stopList: number; noConsent: number }; problems: unknown[] }
interface MessagesPage { items: Array<{ phone: string; state: string; error: string | null }> }

async function json<T>(res: Response, status?: number): Promise<T> {
  if (status !== undefined) assert.equal(res.status, status, await res.clone().text());
  return (await res.json()) as T;
}

/** Resolves when the service has stored (and judged) an incoming SMS from `from`. */
async function inboxHas(h: Harness, from: string, count = 1): Promise<Array<{ id: number; from: string; text: string; optOut: boolean }>> {
  for (let i = 0; i < 200; i++) {
    const { items } = await json<{ items: Array<{ id: number; from: string; text: string; optOut: boolean }> }>(await h.api('/inbox'));
    const mine = items.filter((m) => m.from === from);
    if (mine.length >= count) return mine;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no inbound SMS from ${from}`);
}

/** Polls a condition (the service works asynchronously on AMI events); fails after 10 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met within 10 s');
}

describe('compliance: consent, opt-out by reply, inbox', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ delayPerPartMs: 40 });
  });
  after(() => h.close());

  test('an advertising campaign goes only to numbers with consent; a service one needs none', async () => {
    const list = await json<{ id: number }>(await uploadList(h, [header, ['+79161110001', 'Анна'], ['+79161110002', 'Борис'], ['+79161110003', 'Вера']], 'Реклама'), 201);
    const given = await json<{ consented: boolean; history: unknown[] }>(
      await h.api('/consents', { method: 'POST', body: JSON.stringify({ phone: '8 916 111-00-01', source: 'бумажная анкета', document: 'анкета №17' }) }),
      201,
    );
    assert.equal(given.consented, true);
    await h.api('/consents', { method: 'POST', body: JSON.stringify({ phone: '+79161110002', source: 'форма на сайте' }) });
    const withdrawn = await json<{ consented: boolean; history: Array<{ action: string }> }>(await h.api('/consents/+79161110002', { method: 'DELETE' }), 200);
    assert.equal(withdrawn.consented, false);
    assert.deepEqual(withdrawn.history.map((e) => e.action), ['given', 'withdrawn']);

    const ad = await json<CampaignReply>(
      await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Акция', listId: list.id, template: '{{Имя}}, скидка 10%', kind: 'advertising' }) }),
      201,
    );
    assert.equal(ad.recipients, 3);
    assert.deepEqual(ad.excluded, { stopList: 0, noConsent: 2 });
    const service = await json<CampaignReply>(
      await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Заказ', listId: list.id, template: '{{Имя}}, заказ готов', kind: 'service' }) }),
      201,
    );
    assert.deepEqual(service.excluded, { stopList: 0, noConsent: 0 });

    const before = h.simulator.received.length;
    await h.api(`/campaigns/${ad.id}/start`, { method: 'POST' });
    await campaignFinished(h.service, ad.id);
    const sentTo = h.simulator.received.slice(before).filter((a) => a.action === 'DongleSendSMS').map((a) => a.headers.number);
    assert.deepEqual(sentTo, ['+79161110001']);
    const page = await json<MessagesPage>(await h.api(`/campaigns/${ad.id}/messages`));
    const skipped = page.items.filter((m) => m.state === 'skipped');
    assert.deepEqual(skipped.map((m) => [m.phone, m.error]).sort(), [
      ['+79161110002', 'нет согласия на рекламу'],
      ['+79161110003', 'нет согласия на рекламу'],
    ]);
  });

  test('a reply «CТOП» (Latin C, T, O) mid-campaign stops every further message to that number in two running campaigns', async () => {
    const list = await json<{ id: number }>(await uploadList(h, rows, 'Двадцать'), 201);
    const ids: number[] = [];
    for (const name of ['Первая', 'Вторая']) {
      const c = await json<CampaignReply>(
        await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name, listId: list.id, template: '{{Имя}}, у нас новости', kind: 'service' }) }),
        201,
      );
      ids.push(c.id);
    }
    for (const id of ids) await h.api(`/campaigns/${id}/start`, { method: 'POST' });
    // Wait for the first SMS to leave, then the reply comes.
    await once(h.service.dispatcher.events, 'message', { signal: AbortSignal.timeout(10_000) });
    const atOptOut = h.simulator.received.length;
    h.simulator.injectIncomingSms('dongle1', quitter, 'CТOП\nпожалуйста');
    const [reply] = await inboxHas(h, quitter);
    assert.equal(reply?.optOut, true);
    const afterOptOut = h.simulator.received.length;

    for (const id of ids) await campaignFinished(h.service, id, 30_000);
    const sent = h.simulator.received.filter((a) => a.action === 'DongleSendSMS');
    const toQuitter = h.simulator.received.slice(afterOptOut).filter((a) => a.action === 'DongleSendSMS' && a.headers.number === quitter);
    assert.deepEqual(toQuitter, [], 'nothing went to the number after its opt-out was stored');
    assert.ok(h.simulator.received.slice(atOptOut, afterOptOut).every((a) => a.headers.number !== quitter));
    assert.ok(sent.length >= 38, `the others were sent (${sent.length})`);
    for (const id of ids) {
      const page = await json<MessagesPage>(await h.api(`/campaigns/${id}/messages?pageSize=100`));
      const mine = page.items.filter((m) => m.phone === quitter);
      assert.deepEqual(mine.map((m) => [m.state, m.error]), [['skipped', 'номер в стоп-листе']]);
      assert.equal(page.items.filter((m) => m.state === 'sent').length, 19);
    }
    const entry = await json<{ items: Array<{ phone: string; source: string; reason: string }> }>(await h.api(`/stop-list?phone=${encodeURIComponent(quitter)}`));
    assert.deepEqual(entry.items.map((e) => [e.phone, e.source]), [[quitter, 'reply']]);
    assert.match(entry.items[0]!.reason, /СТОП/);
  });

  test('ordinary replies do not opt out, and are kept in the inbox', async () => {
    const replies: Array<[string, string]> = [
      ['+79162220001', 'Спасибо, получил'],
      ['+79162220002', 'Нет проблем, приду'],
      ['+79162220003', 'хватит ли места на парковке?'],
    ];
    for (const [from, text] of replies) h.simulator.injectIncomingSms('dongle0', from, text);
    for (const [from, text] of replies) {
      const [stored] = await inboxHas(h, from);
      assert.equal(stored?.text, text);
      assert.equal(stored?.optOut, false);
      const listed = await json<{ items: unknown[] }>(await h.api(`/stop-list?phone=${encodeURIComponent(from)}`));
      assert.deepEqual(listed.items, []);
    }
  });

  test('the same opt-out twice (a modem re-reading its SIM) is one inbox message and one stop-list entry', async () => {
    const from = '+79163330001';
    h.simulator.injectIncomingSms('dongle0', from, 'Отписаться');
    await inboxHas(h, from);
    h.simulator.injectIncomingSms('dongle0', from, 'Отписаться');
    // A different SMS after it proves the second copy was processed (events arrive in order).
    h.simulator.injectIncomingSms('dongle0', from, 'и ещё вопрос');
    const stored = await inboxHas(h, from, 2);
    assert.deepEqual(stored.map((m) => m.text).sort(), ['Отписаться', 'и ещё вопрос']);
    assert.equal((await h.service.db.knex('stop_list').where({ phone: from })).length, 1);
    const audit = await h.service.db.knex('audit_log').where({ action: 'stop-list.add' });
    assert.equal(audit.filter((a: { target: string }) => a.target === '+7916***01').length, 1);
  });

  test('stop-list by hand through the API: 201, then 200 for the same number, 204 to remove with a reason', async () => {
    const first = await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: '8 (916) 444-00-01', reason: 'просил по телефону' }) });
    assert.equal(first.status, 201);
    const body = await json<{ phone: string; source: string; reason: string }>(first);
    assert.deepEqual([body.phone, body.source, body.reason], ['+79164440001', 'manual', 'просил по телефону']);
    const again = await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: '+79164440001', reason: 'ещё раз' }) });
    assert.equal(again.status, 200);
    assert.equal((await json<{ reason: string }>(again)).reason, 'просил по телефону');
    const notification = await h.api('/notifications', { method: 'POST', body: JSON.stringify({ phone: '+79164440001', text: 'Ваш заказ готов' }) });
    assert.equal(notification.status, 200);
    const skipped = await json<{ state: string; error: string }>(notification);
    assert.deepEqual([skipped.state, skipped.error], ['skipped', 'номер в стоп-листе']);
    const removed = await h.api('/stop-list/+79164440001', { method: 'DELETE', body: JSON.stringify({ reason: 'клиент попросил вернуть' }) });
    assert.equal(removed.status, 204);
    assert.equal((await h.api('/stop-list/+79164440001', { method: 'DELETE', body: '{}' })).status, 404);
    assert.equal((await h.api('/stop-list', { method: 'POST', body: JSON.stringify({ phone: 'не номер' }) })).status, 422);
  });

  test('inbox: filter unhandled and opt-outs, mark handled', async () => {
    const { items } = await json<{ items: Array<{ id: number; optOut: boolean; handled: boolean }> }>(await h.api('/inbox?optOut=1'));
    assert.ok(items.length >= 2 && items.every((m) => m.optOut));
    const id = items[0]!.id;
    const marked = await json<{ handled: boolean }>(await h.api(`/inbox/${id}`, { method: 'PATCH', body: JSON.stringify({ handled: true }) }), 200);
    assert.equal(marked.handled, true);
    const unhandled = await json<{ items: Array<{ id: number }> }>(await h.api('/inbox?unhandled=1'));
    assert.ok(!unhandled.items.some((m) => m.id === id));
  });

  test('the audit log cannot be changed or emptied, even by SQL', async () => {
    const knex = h.service.db.knex;
    assert.ok((await knex('audit_log').count<{ count: number }[]>('* as count'))[0]!.count > 0);
    await assert.rejects(knex('audit_log').update({ actor: 'someone else' }), /append-only/);
    await assert.rejects(knex('audit_log').delete(), /append-only/);
    await assert.rejects(knex.raw('truncate audit_log'), /append-only/);
  });

  test('the confirmation SMS, when switched on, goes once per opt-out, ahead of campaign traffic, to the stop-listed number', async () => {
    const patched = await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ optOutConfirmation: { enabled: true, text: 'Вы отписаны. АБВ' } }) });
    assert.equal(patched.status, 200);
    const from = '+79165550001';
    const knex = h.service.db.knex;
    const confirmations = () => knex('messages').where({ phone: from, purpose: 'opt-out-confirmation' });
    h.simulator.injectIncomingSms('dongle0', from, 'STOP', { times: 2 });
    h.simulator.injectIncomingSms('dongle0', from, 'стоп'); // a second opt-out of a listed number: no second confirmation
    await inboxHas(h, from, 2); // both SMS stored (the copy is one), so all three were judged
    const rows = await confirmations();
    assert.equal(rows.length, 1);
    await waitFor(async () => ['sent', 'delivered'].includes((await confirmations())[0]?.state));
    assert.deepEqual(h.simulator.sent.filter((s) => s.number === from).map((s) => s.text), ['Вы отписаны. АБВ']);
    await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ optOutConfirmation: { enabled: false, text: 'Вы отписаны. АБВ' } }) });
  });

  test('a «СТОП» again after staff took the number off the stop-list opts out again (also as an identical SMS)', async () => {
    const from = '+79165550002';
    h.simulator.injectIncomingSms('dongle0', from, 'СТОП');
    await inboxHas(h, from);
    assert.equal((await h.api(`/stop-list/${from}`, { method: 'DELETE', body: JSON.stringify({ reason: 'ошибочно' }) })).status, 204);
    h.simulator.injectIncomingSms('dongle0', from, 'СТОП');
    await waitFor(async () => (await h.service.db.knex('stop_list').where({ phone: from })).length === 1);
  });

  test('consents come from a column at upload (да/нет or a date, one source for the file); an unreadable cell refuses the file', async () => {
    const file = (rows: unknown[][]) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(xlsxBuffer(rows))]), 'анкеты.xlsx');
      form.append('consentColumn', 'Согласие');
      form.append('consentSource', 'бумажные анкеты');
      return form;
    };
    const bad = await h.api('/lists', { method: 'POST', body: file([['Телефон', 'Согласие'], ['+79166660001', 'да'], ['+79166660002', 'может быть']]) });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /Строка 3/);
    assert.equal((await h.service.db.knex('consents').where({ phone: '+79166660001' })).length, 0, 'nothing half-stored');

    const list = await json<{ id: number }>(await h.api('/lists', { method: 'POST', body: file([
      ['Телефон', 'Согласие'], ['+79166660001', 'да'], ['+79166660002', '15.03.2026'], ['+79166660003', 'нет'], ['+79166660004', ''],
    ]) }), 201);
    const dated = await json<{ consented: boolean; history: Array<{ at: string; source: string; document: string }> }>(await h.api('/consents/+79166660002'));
    assert.equal(dated.consented, true);
    assert.equal(dated.history[0]?.at, '2026-03-15T00:00:00.000Z');
    assert.equal(dated.history[0]?.source, 'бумажные анкеты');
    assert.equal(dated.history[0]?.document, 'файл «анкеты.xlsx», строка 3');
    const ad = await json<CampaignReply>(
      await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Анкеты', listId: list.id, template: 'Скидка!', kind: 'advertising' }) }),
      201,
    );
    assert.deepEqual(ad.excluded, { stopList: 0, noConsent: 2 });
  });

  test('who did what: uploads, campaign actions, stop-list and consent changes are in the audit log, phones masked', async () => {
    await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ sendPauseSeconds: 0 }) });
    const { items } = await json<{ items: Array<{ actor: string; action: string; target: string | null; address: string | null }> }>(await h.api('/audit'), 200);
    const actions = new Set(items.map((i) => i.action));
    for (const a of ['list.upload', 'campaign.create', 'campaign.start', 'stop-list.add', 'stop-list.remove', 'consent.give', 'consent.withdraw', 'inbox.handled', 'settings.update']) {
      assert.ok(actions.has(a), `audit has ${a}`);
    }
    const starts = await json<{ items: Array<{ actor: string; address: string | null }> }>(await h.api('/audit?action=campaign.start'));
    assert.ok(starts.items.length >= 3 && starts.items.every((i) => i.actor === 'token:tests' && i.address));
    assert.ok(!JSON.stringify(items).includes('9164440001'), 'no full number in the audit log');
  });
});
