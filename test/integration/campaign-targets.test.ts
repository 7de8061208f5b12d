import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { campaignFinished, pageSession, startHarness, uploadList, type Harness } from '../helpers/harness.js';
import { countSegments, isGsm7Basic } from '../../src/templates/segments.js';

/**
 * Issue 9, part B, end to end (real PostgreSQL, the chan_dongle simulator over TCP): campaigns over
 * several lists and tags, defaults, broken rows, translit, preview search and saved texts.
 */

const turkey = [
  ['Телефон', 'Имя', 'Город'],
  ['+7 912 000-00-01', 'Анна', 'Анталья'],
  ['+7 912 000-00-02', '', 'Кемер'],
  ['+7 912 000-00-03', 'Борис', 'Сиде'],
];
// Another export: the name column spelt in capitals; +7 912 000-00-03 is in Turkey too.
const egypt = [
  ['Телефон', 'ИМЯ', 'Отель'],
  ['89120000003', 'Борис из Египта', 'Хилтон'],
  ['89120000004', 'Вера', 'Риксос'],
];
const misc = [
  ['Телефон', 'Имя'],
  ['+79120000001', 'Анна из разного'],
  ['+79120000005', 'Глеб'],
];

interface CampaignReply {
  id: number;
  listIds: number[];
  translit: boolean;
  recipients: number;
  parts: number;
  cost: number;
  problems: Array<{ row: number; phone: string; problem: string; listId?: number }>;
  translitSaving?: { partsWithout: number; costWithout: number; savedParts: number; savedCost: number };
}

interface PreviewReply {
  lists: Array<{ id: number; name: string }>;
  columns: string[];
  recipients: number;
  duplicatesAcrossLists: number;
  parts: number;
  matches: number | null;
  problems: CampaignReply['problems'];
  translitSaving?: CampaignReply['translitSaving'];
  rows: Array<{ row: number; listId?: number; phone: string; fields: Record<string, string>; text: string; characters: number; encoding: string; parts: number; problem: string | null }>;
}

describe('campaigns over lists and tags, defaults, translit, saved texts', () => {
  let h: Harness;
  const ids = { turkey: 0, egypt: 0, misc: 0 };
  before(async () => {
    h = await startHarness();
    ids.turkey = ((await (await uploadList(h, turkey, 'Турция')).json()) as { id: number }).id;
    ids.egypt = ((await (await uploadList(h, egypt, 'Египет')).json()) as { id: number }).id;
    ids.misc = ((await (await uploadList(h, misc, 'Разное')).json()) as { id: number }).id;
    // Tags are edited by part A's list pages; here they are set directly.
    await h.service.db.knex('lists').where({ id: ids.turkey }).update({ tags: ['Турция', 'Лето'] });
    await h.service.db.knex('lists').where({ id: ids.misc }).update({ tags: ['лето'] });
  });
  after(async () => {
    await h.close();
  });

  const post = async (path: string, body: unknown) => h.api(path, { method: 'POST', body: JSON.stringify(body) });

  /** Starts the campaign and returns what the simulator transmitted for it. */
  async function run(id: number) {
    const before = h.simulator.sent.length;
    const finished = campaignFinished(h.service, id);
    assert.equal((await h.api(`/campaigns/${id}/start`, { method: 'POST' })).status, 200);
    await finished;
    return h.simulator.sent.slice(before).filter((s) => s.outcome === 'sent');
  }

  test('two lists and a tag: one SMS per number, the first list\'s fields; a default fills the empty name', async () => {
    const created = await post('/campaigns', {
      name: 'Туры готовы',
      listIds: [ids.turkey, ids.egypt],
      tags: ['ЛЕТО'],
      template: '{{ имя |клиент}}, ваш тур готов',
      kind: 'service',
    });
    assert.equal(created.status, 201);
    const campaign = (await created.json()) as CampaignReply;
    assert.deepEqual(campaign.listIds, [ids.turkey, ids.egypt, ids.misc], 'listIds in order, then the tagged list; Турция (also tagged) once');
    assert.equal(campaign.recipients, 5);
    assert.deepEqual(campaign.problems, []);
    const stored = await h.service.db.knex('campaign_lists').where({ campaign_id: campaign.id }).orderBy('position').select('list_id');
    assert.deepEqual(stored.map((r) => r.list_id), [ids.turkey, ids.egypt, ids.misc]);
    const row = await h.service.db.knex('campaigns').where({ id: campaign.id }).first();
    assert.equal(row.list_id, ids.turkey, 'campaigns.list_id stays the first list');

    const sent = await run(campaign.id);
    assert.equal(sent.length, 5);
    assert.equal(new Set(sent.map((s) => s.number)).size, 5, 'each number once');
    const textTo = (phone: string) => sent.find((s) => s.number === phone)?.text;
    assert.equal(textTo('+79120000001'), 'Анна, ваш тур готов', 'Турция wins over Разное');
    assert.equal(textTo('+79120000002'), 'клиент, ваш тур готов', 'the default fills the empty cell');
    assert.equal(textTo('+79120000003'), 'Борис, ваш тур готов', 'Турция wins over Египет');
    assert.equal(textTo('+79120000004'), 'Вера, ваш тур готов', '{{имя}} finds the column ИМЯ');
    assert.equal(textTo('+79120000005'), 'Глеб, ваш тур готов');

    const api = (await (await h.api(`/campaigns/${campaign.id}`)).json()) as { listIds: number[]; translit: boolean };
    assert.deepEqual(api.listIds, [ids.turkey, ids.egypt, ids.misc]);
    assert.equal(api.translit, false);
  });

  test('broken rows (missing field, no column in that list, over the part limit) are listed in full and skipped with the reason', async () => {
    await h.service.db.knex('list_contacts').where({ list_id: ids.misc, phone: '+79120000005' }).update({ fields: JSON.stringify({ Телефон: '+79120000005', Имя: 'Глеб'.repeat(200) }) });
    const created = await post('/campaigns', { name: 'С ошибками', listIds: [ids.turkey, ids.egypt, ids.misc], template: '{{Имя}}, ваш тур в {{Город|отель}} готов', kind: 'service' });
    assert.equal(created.status, 201);
    const campaign = (await created.json()) as CampaignReply;
    assert.equal(campaign.recipients, 5);
    const byPhone = new Map(campaign.problems.map((p) => [p.phone, p]));
    assert.deepEqual([...byPhone.keys()].sort(), ['+79120000002', '+79120000005']);
    assert.deepEqual({ ...byPhone.get('+79120000002'), problem: undefined }, { row: 3, phone: '+79120000002', listId: ids.turkey, problem: undefined });
    assert.match(byPhone.get('+79120000002')!.problem, /Пустое поле «Имя»/);
    assert.match(byPhone.get('+79120000005')!.problem, /займёт 13 SMS, а можно не больше 7/);

    // A field one list has no column for, without a default: those rows say so.
    const noColumn = (await (await post('/campaigns', { name: 'Без колонки', listIds: [ids.turkey, ids.egypt], template: '{{Имя|клиент}}, ваш отель: {{Отель}}', kind: 'service' })).json()) as CampaignReply;
    assert.deepEqual(noColumn.problems.map((p) => p.phone).sort(), ['+79120000001', '+79120000002', '+79120000003']);
    assert.ok(noColumn.problems.every((p) => /В списке «Турция» нет колонки «Отель».*\{\{Отель\|клиент\}\}/.test(p.problem)));

    const sent = await run(campaign.id);
    assert.deepEqual(sent.map((s) => s.number).sort(), ['+79120000001', '+79120000003', '+79120000004']);
    assert.equal(sent.find((s) => s.number === '+79120000004')?.text, 'Вера, ваш тур в отель готов');
    const skipped = await h.service.db.knex('messages').where({ campaign_id: campaign.id, state: 'skipped' }).orderBy('phone').select('phone', 'error');
    assert.deepEqual(skipped.map((m) => m.phone), ['+79120000002', '+79120000005']);
    assert.match(skipped[0].error, /^Список «Турция»: Пустое поле «Имя»/, 'row numbers repeat across lists: the reason names the list');
    assert.ok(skipped[1].error);
    await h.service.db.knex('list_contacts').where({ list_id: ids.misc, phone: '+79120000005' }).update({ fields: JSON.stringify({ Телефон: '+79120000005', Имя: 'Глеб' }) });
  });

  test('translit at least halves the parts of a Cyrillic text, shows the saving, is stored and sends Latin GSM-7', async () => {
    const template = '{{Имя|клиент}}, здравствуйте! Ваш тур в {{Город}} подтверждён, документы готовы. Ждём вас в офисе на ул. Ленина, 5 с 10 до 20.';
    const plain = (await (await post('/campaigns/preview', { listId: ids.turkey, template })).json()) as PreviewReply;
    const latin = (await (await post('/campaigns/preview', { listId: ids.turkey, template, translit: true })).json()) as PreviewReply;
    assert.ok(plain.rows.every((r) => r.encoding === 'ucs2' && r.parts === 2));
    assert.ok(latin.rows.every((r) => r.encoding === 'gsm7' && r.parts === 1));
    assert.ok(plain.parts >= 2 * latin.parts, `${plain.parts} parts vs ${latin.parts} with translit`);
    assert.equal(latin.translitSaving?.partsWithout, plain.parts);
    assert.equal(latin.translitSaving?.savedParts, plain.parts - latin.parts);
    assert.equal(plain.translitSaving, undefined);

    const created = (await (await post('/campaigns', { name: 'Транслит', listId: ids.turkey, template, kind: 'service', translit: true })).json()) as CampaignReply;
    assert.equal(created.translit, true);
    assert.equal(created.parts, latin.parts);
    assert.ok(created.translitSaving && created.translitSaving.savedCost > 0);
    const api = (await (await h.api(`/campaigns/${created.id}`)).json()) as { translit: boolean; translitSavedParts: number };
    assert.equal(api.translit, true);
    assert.equal(api.translitSavedParts, plain.parts - latin.parts);
    const sent = await run(created.id);
    assert.equal(sent.length, 3);
    assert.equal(sent.find((s) => s.number === '+79120000001')?.text, 'Anna, zdravstvuyte! Vash tur v Antalya podtverzhdyon, dokumenty gotovy. Zhdyom vas v ofise na ul. Lenina, 5 s 10 do 20.');
    for (const s of sent) {
      assert.ok([...s.text].every(isGsm7Basic), s.text);
      assert.equal(countSegments(s.text).parts, 1);
    }

    const session = await pageSession(h);
    const page = await session.get(`/campaigns/${created.id}`);
    assert.match(page.html, /data-testid="campaign-translit">.*экономия <b>3<\/b> частей SMS, около <b>0,18/);
  });

  test('preview search finds any recipient by number or any field and shows exactly their SMS', async () => {
    const base = { listIds: [ids.turkey, ids.egypt], tags: ['лето'], template: '{{Имя|клиент}}, ваш тур готов' };
    const byName = (await (await post('/campaigns/preview', { ...base, q: 'вера' })).json()) as PreviewReply;
    assert.equal(byName.matches, 1);
    assert.equal(byName.rows[0]?.phone, '+79120000004');
    assert.equal(byName.rows[0]?.text, 'Вера, ваш тур готов');
    assert.equal(byName.rows[0]?.listId, ids.egypt);
    assert.deepEqual(byName.rows[0]?.fields, { Телефон: '89120000004', ИМЯ: 'Вера', Отель: 'Риксос' });
    assert.equal(byName.rows[0]?.encoding, 'ucs2');
    assert.equal(byName.rows[0]?.characters, 19);

    const byPhone = (await (await post('/campaigns/preview', { ...base, q: '8 912 000-00-05' })).json()) as PreviewReply;
    assert.deepEqual(byPhone.rows.map((r) => [r.phone, r.text]), [['+79120000005', 'Глеб, ваш тур готов']]);

    const byField = (await (await post('/campaigns/preview', { ...base, q: 'КЕМЕР' })).json()) as PreviewReply;
    assert.deepEqual(byField.rows.map((r) => [r.phone, r.text]), [['+79120000002', 'клиент, ваш тур готов']]);
    assert.equal(byField.duplicatesAcrossLists, 2);
    assert.deepEqual(byField.columns, ['Телефон', 'Имя', 'Город', 'Отель']);

    // A field no chosen list has: allowed with a default (a saved text meant for other lists), with a warning; an error without.
    const onlyDefault = (await (await post('/campaigns/preview', { listId: ids.misc, template: '{{Имя}}, ваш отель {{Отель|готов}}' })).json()) as PreviewReply & { warnings: string[] };
    assert.deepEqual(onlyDefault.rows.map((r) => r.text), ['Анна из разного, ваш отель готов', 'Глеб, ваш отель готов']);
    assert.match(onlyDefault.warnings.join(), /Колонки «Отель» нет ни в одном из выбранных списков/);
    const typo = await post('/campaigns/preview', { listId: ids.misc, template: '{{Имя}}, ваш отель {{Отель}}' });
    assert.equal(typo.status, 422);
    assert.match(((await typo.json()) as { error: { message: string } }).error.message, /\{\{Отель\}\}/);

    const none = (await (await post('/campaigns/preview', { ...base, q: 'никого' })).json()) as PreviewReply;
    assert.equal(none.matches, 0);
    assert.deepEqual(none.rows, []);

    const badTag = await post('/campaigns/preview', { tags: ['Куба'], template: 'x' });
    assert.equal(badTag.status, 422);
    assert.match(((await badTag.json()) as { error: { message: string } }).error.message, /Нет ни одного списка с меткой «Куба»/);
    const nothing = await post('/campaigns/preview', { template: 'x' });
    assert.equal(nothing.status, 422);
    for (const bad of [{ listIds: ['1'] }, { listIds: [ids.turkey], translit: 'да' }, { tags: 'Лето' }, { listIds: [999_999] }]) {
      const res = await post('/campaigns', { name: 'x', template: 'x', kind: 'service', ...bad });
      assert.ok(res.status === 422 || res.status === 404, `${JSON.stringify(bad)} → ${res.status}`);
      assert.ok(((await res.json()) as { error: { message: string } }).error.message);
    }

    // The page: search box, the found recipient's SMS, the saving with translit.
    const session = await pageSession(h);
    await session.get('/campaigns/new');
    const html = (await session.post('/campaigns/new', { intent: 'preview', listIds: String(ids.egypt), tags: 'Лето', name: 'x', kind: 'service', template: base.template, q: 'Глеб', translit: 'on' })).html;
    assert.match(html, /data-testid="preview-matches">Найдено: 1/);
    assert.match(html, /Gleb, vash tur gotov/);
    assert.match(html, /data-testid="translit-saving"/);
  });

  test('saved texts: saved under a name (API and page), listed, reused in a new campaign', async () => {
    const text = '{{Имя|клиент}}, ваш тур готов. Ждём вас!';
    const saved = await post('/templates', { name: 'Тур готов', text });
    assert.equal(saved.status, 201);
    const template = (await saved.json()) as { id: number; name: string; text: string };
    const again = await post('/templates', { name: '  тур   ГОТОВ ', text: `${text} ` });
    assert.equal(again.status, 200, 'the same name (any case) replaces the text');
    assert.equal(((await again.json()) as { id: number }).id, template.id);
    const bad = await post('/templates', { name: 'Сломанный', text: '{{Имя}, привет' });
    assert.equal(bad.status, 422);
    const noName = await post('/templates', { name: ' ', text });
    assert.equal(noName.status, 422);

    const list = (await (await h.api('/templates')).json()) as { items: Array<{ id: number; name: string; text: string }> };
    assert.deepEqual(list.items.map((t) => [t.id, t.name, t.text]), [[template.id, 'тур ГОТОВ', `${text} `]]);
    assert.equal((await h.audit.list({ action: 'template.save' })).length, 2);

    // Reused: a new campaign with the saved text.
    const reused = (await (await h.api(`/templates/${template.id}`)).json()) as { text: string };
    const untagged = await post('/campaigns', { name: 'Из сохранённого', tags: ['египет'], template: reused.text, kind: 'service' });
    assert.equal(untagged.status, 422, 'no list is tagged Египет yet: a clear error, not an empty campaign');
    await h.service.db.knex('lists').where({ id: ids.egypt }).update({ tags: ['Египет'] });
    const campaign = (await (await post('/campaigns', { name: 'Из сохранённого', tags: ['египет'], template: reused.text, kind: 'service' })).json()) as CampaignReply;
    const sent = await run(campaign.id);
    assert.deepEqual(sent.map((s) => s.text).sort(), ['Борис из Египта, ваш тур готов. Ждём вас! ', 'Вера, ваш тур готов. Ждём вас! ']);

    // The page: save under a name, then pick it in a new campaign.
    const session = await pageSession(h);
    await session.get('/campaigns/new');
    const savedPage = await session.post('/campaigns/new', { intent: 'save-template', listIds: String(ids.turkey), name: '', kind: 'service', template: '{{Имя}}, до встречи!', templateName: 'Прощание' });
    assert.equal(savedPage.status, 200);
    assert.match(savedPage.html, /Текст сохранён под названием «Прощание»/);
    const id = (await h.service.db.knex('saved_templates').where({ name: 'Прощание' }).first()).id as number;
    const loaded = await session.post('/campaigns/new', { intent: 'load-template', savedTemplate: String(id), listIds: String(ids.turkey), name: 'x', kind: 'service', template: '' });
    assert.match(loaded.html, /<textarea id="template"[^>]*>\{\{Имя\}\}, до встречи!<\/textarea>/);
    const viaLink = await session.get(`/campaigns/new?template=${id}`);
    assert.match(viaLink.html, /\{\{Имя\}\}, до встречи!<\/textarea>/);
  });
});
