import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { CampaignsService, type CampaignTarget, type PreviewOptions } from '../../src/campaigns/campaigns-service.js';
import { ComplianceRepo, campaignCompliance } from '../../src/compliance/compliance-repo.js';
import { ErasureRepo } from '../../src/compliance/erasure-repo.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { ListsRepo, type NewContact } from '../../src/lists/lists-repo.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

/**
 * The preview keeps what it read and rendered for a minute (issue 9: a search after a preview must
 * be instant). These check it never shows what a fresh preview would not: every change to the
 * lists or to compliance is seen at once, and creation decides on the standing as it is then.
 */

/** Counts the reads of contacts, the cost the cache saves (a real ListsRepo on the real database). */
class CountingLists extends ListsRepo {
  reads = 0;
  override contacts(listId: number, options: { limit?: number; offset?: number } = {}) {
    this.reads++;
    return super.contacts(listId, options);
  }
}

const names = ['Анна', 'Борис', '', 'Вера'];
const contact = (i: number): NewContact => ({
  rowNumber: i + 2,
  phone: `+7912000${String(i).padStart(4, '0')}`,
  fields: { Телефон: `8912000${String(i).padStart(4, '0')}`, Имя: names[i % names.length]!, Город: i % 2 ? 'Кемер' : 'Анталья' },
});
const meta = (name: string) => ({ name, fileName: `${name}.xlsx`, columns: ['Телефон', 'Имя', 'Город'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null });
const template = '{{Имя|клиент}}, ждём вас в {{Город}}.';

describe('preview cache: fast after the first preview, never stale', () => {
  let testDb: TestDatabase;
  let lists: CountingLists;
  let service: CampaignsService;
  let clock: FakeClock;
  let compliance: ComplianceRepo;
  const ids = { a: 0, b: 0 };
  const target: CampaignTarget = { listIds: [0, 0] };

  /** What the same preview gives with nothing kept. */
  async function fresh(t: CampaignTarget, text: string, options: PreviewOptions = {}) {
    const other = new CampaignsService({ repo: new CampaignsRepo(testDb.db.knex), lists: new ListsRepo(testDb.db.knex), settings: new SettingsRepo(testDb.db.knex), clock, compliance: campaignCompliance(testDb.db.knex, exclusionReasons) });
    return other.preview(t, text, options);
  }

  before(async () => {
    testDb = await createTestDatabase();
    const knex = testDb.db.knex;
    clock = new FakeClock();
    lists = new CountingLists(knex);
    compliance = new ComplianceRepo(knex);
    service = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: new SettingsRepo(knex), clock, compliance: campaignCompliance(knex, exclusionReasons) });
    const all = Array.from({ length: 40 }, (_, i) => contact(i));
    ids.a = await lists.create(meta('Первая'), all.slice(0, 25), clock.now());
    ids.b = await lists.create(meta('Вторая'), all.slice(20), clock.now());
    target.listIds = [ids.a, ids.b];
  });
  after(async () => {
    await testDb.drop();
  });

  test('searches after a preview read nothing again and answer as a fresh preview does', async () => {
    service.forgetPreviews();
    const before = lists.reads;
    const first = await service.preview(target, template);
    assert.equal(lists.reads - before, 2, 'the two lists are read once');
    for (const q of ['Кемер', '8 912 000-00-05', 'вера', 'клиент', '+7912000003', 'нет такого']) {
      const kept = await service.preview(target, template, { q, rowsShown: 50 });
      assert.deepEqual(kept, await fresh(target, template, { q, rowsShown: 50 }), q);
    }
    assert.deepEqual(await service.preview(target, template), first);
    assert.equal(lists.reads - before, 2, 'no search read the contacts again');
    // Another text, translit, another kind: rendered again from the same contacts.
    for (const [text, options] of [[`${template} До встречи!`, {}], [template, { translit: true }], [template, { kind: 'advertising' as const }]] as const) {
      assert.deepEqual(await service.preview(target, text, options), await fresh(target, text, options));
    }
    assert.equal(lists.reads - before, 2);
  });

  test('a stop-listed number is left out at once, in the preview and at creation', async () => {
    await service.preview(target, template);
    await compliance.addToStopList(testDb.db.knex, { phone: '+79120000007', reason: null, source: 'manual', createdBy: 'test', now: clock.now() });
    const preview = await service.preview(target, template);
    assert.equal(preview.summary.excluded.stopList, 1);
    assert.deepEqual(preview, await fresh(target, template));
    await compliance.addToStopList(testDb.db.knex, { phone: '+79120000008', reason: null, source: 'manual', createdBy: 'test', now: clock.now() });
    const { summary } = await service.create({ name: 'После стоп-листа', ...target, template, kind: 'service', createdBy: null });
    assert.equal(summary.excluded.stopList, 2);
    const skipped = await testDb.db.knex('messages').where({ state: 'skipped' }).whereIn('phone', ['+79120000007', '+79120000008']).count<{ count: number }[]>('* as count');
    assert.equal(Number(skipped[0]!.count), 2);
  });

  test('an erased contact and a re-uploaded list are never shown from memory', async () => {
    await service.preview(target, template);
    await new ErasureRepo(testDb.db.knex).eraseContacts(testDb.db.knex, '+79120000001', 'erased-1', clock.now());
    const afterErasure = await service.preview(target, template, { q: '+79120000001' });
    assert.equal(afterErasure.matches, 0);
    assert.deepEqual(afterErasure, await fresh(target, template, { q: '+79120000001' }));

    const replaced = Array.from({ length: 3 }, (_, i) => ({ ...contact(100 + i), fields: { Телефон: '', Имя: 'Новый', Город: 'Сиде' } }));
    const contents = { ...meta('Вторая'), notes: [], suppressed: 0, sheet: null, sheets: [], headerRow: 1 };
    await lists.replaceContents(ids.b, contents, replaced, clock.now());
    const afterUpload = await service.preview(target, template, { q: 'Сиде' });
    assert.equal(afterUpload.matches, 3);
    assert.deepEqual(afterUpload, await fresh(target, template, { q: 'Сиде' }));
  });

  test('a consent dated a little later takes effect when its time comes; a minute later everything is read again', async () => {
    const advertising = { kind: 'advertising' as const };
    await compliance.addConsent(testDb.db.knex, '+79120000002', { action: 'given', at: new Date(clock.now().getTime() + 30_000), source: 'manual', document: null, recordedBy: 'test' }, clock.now());
    const before = await service.preview(target, template, advertising);
    clock.advance(31_000);
    const later = await service.preview(target, template, advertising);
    assert.equal(later.summary.excluded.noConsent, before.summary.excluded.noConsent - 1);
    assert.deepEqual(later, await fresh(target, template, advertising));

    const reads = lists.reads;
    await service.preview(target, template, advertising);
    assert.equal(lists.reads, reads, 'kept within the minute');
    clock.advance(61_000);
    await service.preview(target, template, advertising);
    assert.equal(lists.reads, reads + 2, 'read again after it');
  });

  test('a changed part limit is seen at once', async () => {
    const long = `${template} ${'Очень длинный текст. '.repeat(20)}`;
    const settings = new SettingsRepo(testDb.db.knex);
    const wide = await service.preview(target, long);
    await settings.update({ maxParts: 1 }, clock.now());
    const narrow = await service.preview(target, long);
    assert.ok(narrow.summary.problems.length > wide.summary.problems.length);
    assert.deepEqual(narrow, await fresh(target, long));
  });
});
