/** What the dispatcher's integration tests set up alike: a connected gateway, a running campaign, a wait on real time. */
import assert from 'node:assert/strict';
import type { Clock } from '../../src/clock.js';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { CampaignsService } from '../../src/campaigns/campaigns-service.js';
import { campaignCompliance } from '../../src/compliance/compliance-repo.js';
import type { Knex } from '../../src/db/knex.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import type { Logger } from '../../src/logger.js';
import { DongleGateway } from '../../src/modems/ami/dongle-gateway.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';

/** For the simulator's real-time side only (its modems, reconnects); dispatcher time is a fake clock. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A DongleGateway logged in to the simulator on `port`; the caller closes it. */
export async function connectedGateway(port: number, log: Logger): Promise<DongleGateway> {
  const g = new DongleGateway({ host: '127.0.0.1', port, username: 'simcast', secret: 'simcast', log, actionTimeoutMs: 2000 });
  assert.equal(await g.start(), true);
  return g;
}

/** A running campaign of `phones.length` one-part messages. */
export async function runningCampaign(knex: Knex, clock: Clock, phones: string[]): Promise<number> {
  const lists = new ListsRepo(knex);
  const listId = await lists.create(
    { name: 'Тест', fileName: 't.xlsx', columns: ['Телефон', 'Имя'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    phones.map((phone, i) => ({ rowNumber: i + 2, phone, fields: { Телефон: phone, Имя: `Клиент ${i + 1}` } })),
    clock.now(),
  );
  const service = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: new SettingsRepo(knex), clock, compliance: campaignCompliance(knex, exclusionReasons) });
  const { campaign } = await service.create({ name: 'Тест', listId, template: '{{Имя}}, здравствуйте!', kind: 'service', createdBy: null });
  await service.act(campaign.id, 'start');
  return campaign.id;
}
