import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CampaignScheduler } from '../../src/campaigns/campaign-schedule.js';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { CampaignsService } from '../../src/campaigns/campaigns-service.js';
import { systemClock } from '../../src/clock.js';
import { campaignCompliance } from '../../src/compliance/compliance-repo.js';
import { DispatchRepo } from '../../src/dispatcher/dispatch-repo.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { createLogger } from '../../src/logger.js';
import { DongleGateway } from '../../src/modems/ami/dongle-gateway.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { recentSendPaces } from '../../src/sims/send-pace-repo.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

/**
 * The forecast against a real run: two simulated modems at different paces (400 and 800 ms per
 * part, no pauses), the dispatcher on the wall clock. After a first stretch the SIMs have a
 * history; the campaign is paused until nothing is in flight, the forecast is taken, and the
 * rest is sent. The forecast must be within 10 % of the time the rest really took. This asserts
 * the forecast's accuracy against the simulator's pace, not our own speed.
 */
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const fast = { device: 'dongle0', imsi: '250990000000201', delayPerPartMs: 400 };
const slow = { device: 'dongle1', imsi: '250990000000202', delayPerPartMs: 800 };
const recipients = 90;
const warmup = 25;

let testDb: TestDatabase;
let simulator: AmiSimulator;
let gateway: DongleGateway;

before(async () => {
  testDb = await createTestDatabase();
  simulator = await AmiSimulator.start({ modems: [fast, slow], delayPerPartMs: 400, authFailDelayMs: 10 });
  gateway = new DongleGateway({ host: '127.0.0.1', port: simulator.port, username: 'simcast', secret: 'simcast', log, actionTimeoutMs: 5000 });
  assert.equal(await gateway.start(), true);
});

after(async () => {
  await gateway?.close();
  await simulator?.close();
  await testDb?.drop();
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('after a run, each SIM’s learned pace predicts the rest of the campaign within 10 %', async () => {
  const knex = testDb.db.knex;
  const clock = systemClock;
  const settingsRepo = new SettingsRepo(knex);
  await settingsRepo.update({ timezone: 'Europe/Moscow', dailyLimit: 10_000, monthlyLimit: 100_000, sendPauseSeconds: 0, sendPauseMaxSeconds: 0 }, clock.now());
  const sims = new SimsRepo(knex);
  const dispatcher = new Dispatcher({ repo: new DispatchRepo(knex, 'pbx-1'), sims, gateway, clock, log, settings: () => settingsRepo.get(), idleMs: 50 });

  const lists = new ListsRepo(knex);
  // Every fifth of the first rows is a long name: a two-part SMS, so the pace must be per part.
  const name = (i: number) => (i % 5 === 0 && i < 60 ? `Клиент ${i} ${'очень длинное имя '.repeat(4)}` : `Клиент ${i}`);
  const listId = await lists.create(
    { name: 'Темп', fileName: 't.xlsx', columns: ['Телефон', 'Имя'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    Array.from({ length: recipients }, (_, i) => ({ rowNumber: i + 2, phone: `+7916${String(i).padStart(7, '0')}`, fields: { Телефон: '', Имя: name(i) } })),
    clock.now(),
  );
  const campaigns = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: settingsRepo, clock, compliance: campaignCompliance(knex, exclusionReasons) });
  const { campaign } = await campaigns.create({ name: 'Темп', listId, template: 'Здравствуйте, {{Имя}}! Ваш заказ готов.', kind: 'service', ignoreWindow: true, createdBy: null });
  const partsOf = await knex('messages').where({ campaign_id: campaign.id }).pluck('parts');
  assert.ok(partsOf.some((p: number) => p === 2), 'some messages have two parts');

  const count = async (states: string[]) => Number((await knex('messages').where({ campaign_id: campaign.id }).whereIn('state', states).count({ n: '*' }))[0]!.n);
  const stop = new AbortController();
  const running = dispatcher.run(stop.signal);
  try {
    await campaigns.act(campaign.id, 'start');
    dispatcher.notify();
    await until(async () => (await count(['sent', 'delivered'])) >= warmup);
    await campaigns.act(campaign.id, 'pause');
    await until(async () => (await count(['sending'])) === 0);

    const paces = await recentSendPaces(knex);
    const fastPace = paces.get(fast.imsi)!;
    const slowPace = paces.get(slow.imsi)!;
    assert.ok(fastPace.learned && slowPace.learned, `both SIMs have history: ${JSON.stringify([...paces])}`);
    assert.ok(fastPace.seconds >= 0.4 && fastPace.seconds < 0.55, `fast SIM ≈ 0.4 s a part: ${fastPace.seconds}`);
    assert.ok(slowPace.seconds >= 0.8 && slowPace.seconds < 0.95, `slow SIM ≈ 0.8 s a part: ${slowPace.seconds}`);

    // The forecast as a running campaign gets it (a paused one forecasts the same messages).
    const scheduler = new CampaignScheduler(knex, sims, settingsRepo, () => gateway.listModems(), clock);
    const remaining = await count(['waiting']);
    assert.ok(remaining >= 50, `most of the campaign is left: ${remaining}`);
    const t0 = clock.now();
    const { forecast } = await scheduler.schedule((await campaigns.get(campaign.id))!);
    assert.ok(forecast.finishAt, forecast.text);
    const predictedMs = forecast.finishAt.getTime() - t0.getTime();

    await campaigns.act(campaign.id, 'resume');
    dispatcher.notify();
    await until(async () => (await count(['waiting', 'sending'])) === 0);
    const actualMs = (await knex('messages').where({ campaign_id: campaign.id }).max({ t: 'sent_at' }))[0]!.t.getTime() - t0.getTime();

    const error = Math.abs(predictedMs - actualMs) / actualMs;
    log.info({ predictedMs, actualMs, error }, 'forecast against the run');
    assert.ok(error <= 0.1, `forecast ${predictedMs} ms against ${actualMs} ms really taken: ${(error * 100).toFixed(1)} % off`);
    assert.equal(await count(['sent', 'delivered']), recipients);
  } finally {
    stop.abort();
    await running;
  }
});
