import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { campaignCompliance } from '../../src/compliance/compliance-repo.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { CampaignsService } from '../../src/campaigns/campaigns-service.js';
import { systemClock } from '../../src/clock.js';
import { DataDirLockedError, openEmbedded } from '../../src/db/knex.js';
import { migrateLatest, migrationNames } from '../../src/db/migrations.js';
import { DispatchRepo } from '../../src/dispatcher/dispatch-repo.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { ErasureService } from '../../src/compliance/erasure.js';
import { ErasureRepo } from '../../src/compliance/erasure-repo.js';
import { PhoneKeys } from '../../src/compliance/phone-keys.js';
import { createLogger } from '../../src/logger.js';
import { ListsService } from '../../src/lists/lists-service.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { xlsxBuffer } from '../helpers/harness.js';

test('the embedded default (PGlite): same migrations, one process at a time, data survives a reopen', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'simcast-pglite-'));
  try {
    const db = openEmbedded(dir);
    assert.deepEqual(await migrateLatest(db.knex), migrationNames);
    assert.throws(() => openEmbedded(dir), DataDirLockedError, 'a second process must not open the same data folder');

    const lists = new ListsRepo(db.knex);
    const list = await new ListsService(lists, systemClock).importFile({
      data: xlsxBuffer([
        ['Телефон', 'Имя'],
        ['89123456789', 'Анна'],
        ['89161234567', 'Борис'],
      ]),
      fileName: 'клиенты.xlsx',
      createdBy: 'test',
    });
    const campaigns = new CampaignsService({ repo: new CampaignsRepo(db.knex), lists, settings: new SettingsRepo(db.knex), clock: systemClock, compliance: campaignCompliance(db.knex, exclusionReasons) });
    const { campaign, summary } = await campaigns.create({ name: 'Проверка', listId: list.id, template: 'Здравствуйте, {{Имя}}!', kind: 'service', createdBy: null });
    assert.equal(summary.sendable, 2);
    await campaigns.act(campaign.id, 'start');
    const now = new Date();
    await new SimsRepo(db.knex).seen([{ imsi: '250990000000001', device: 'dongle0' }], 'embedded', now, { dailyLimit: 100, monthlyLimit: 3000, minPauseSeconds: 0, maxPauseSeconds: 0, pricePerPart: 0.06 });
    const claimed = await new DispatchRepo(db.knex, 'embedded').claimForSim('250990000000001', 'dongle0', {
      now,
      timeZone: 'Europe/Moscow',
      windowOpen: true,
      notificationsIgnoreWindow: true,
      maxPartsPerMessage: 10,
      random: () => 0,
    });
    assert.equal(claimed.kind === 'claimed' && claimed.message.text, 'Здравствуйте, Анна!');
    // The report's search (tsvector) and the export's cursor work on PGlite too.
    const report = new CampaignsRepo(db.knex);
    const found = await report.report(campaign.id, { page: 1, pageSize: 10, search: 'борис' }, null);
    assert.deepEqual(found.items.map((m) => m.phone), ['+79161234567']);
    const exported: string[] = [];
    for await (const rows of report.exportRows(campaign.id, ['Имя'], 'Europe/Moscow', 1)) exported.push(...rows.map((r) => r.fields[0]!));
    assert.deepEqual(exported, ['Анна', 'Борис']);

    // An upload asks which of its numbers were erased inside the transaction storing it: PGlite has
    // one connection, so asking on another would wait forever. The erased number is not stored.
    const phoneKeys = new PhoneKeys();
    const erasureRepo = new ErasureRepo(db.knex);
    await erasureRepo.suppress(db.knex, await phoneKeys.keyOf(db.knex, '+79161234567'), now);
    const erasure = new ErasureService({ repo: erasureRepo, audit: new AuditLog(db.knex), clock: systemClock, phoneKeys, log: createLogger('silent') });
    const again = await new ListsService(lists, systemClock, (phones, trx) => erasure.suppressedAmong(phones, trx)).importFile({
      data: xlsxBuffer([['Телефон', 'Имя'], ['89123456789', 'Анна'], ['89161234567', 'Борис']]),
      fileName: 'снова.xlsx',
      createdBy: 'test',
    });
    assert.deepEqual([again.imported, again.suppressed, again.hasFile], [1, 1, false]);
    assert.deepEqual((await lists.contacts(again.id)).map((c) => c.phone), ['+79123456789']);
    await db.close();

    const reopened = openEmbedded(dir);
    assert.deepEqual(await migrateLatest(reopened.knex), []);
    assert.equal(await new DispatchRepo(reopened.knex, 'embedded').recoverInFlight(new Date(), 'restart'), 1);
    const counts = await new CampaignsRepo(reopened.knex).counts(campaign.id);
    assert.equal(counts.unknown, 1);
    assert.equal(counts.waiting, 1);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
