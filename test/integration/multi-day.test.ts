import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CampaignScheduler } from '../../src/campaigns/campaign-schedule.js';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { campaignCompliance } from '../../src/compliance/compliance-repo.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { CampaignsService } from '../../src/campaigns/campaigns-service.js';
import { DispatchRepo } from '../../src/dispatcher/dispatch-repo.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import type { MessageState } from '../../src/dispatcher/message-state.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { createLogger } from '../../src/logger.js';
import { DongleGateway } from '../../src/modems/ami/dongle-gateway.js';
import { dayKey } from '../../src/scheduling/zoned-time.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const tz = 'Europe/Moscow';
const recipients = 1000;

let testDb: TestDatabase;
let simulator: AmiSimulator;
let gateway: DongleGateway;

before(async () => {
  testDb = await createTestDatabase();
  simulator = await AmiSimulator.start({
    modems: [
      { device: 'dongle0', imsi: '250990000000101' },
      { device: 'dongle1', imsi: '250990000000102' },
      { device: 'dongle2', imsi: '250990000000103' },
    ],
    delayPerPartMs: 0,
    authFailDelayMs: 10,
  });
  gateway = new DongleGateway({ host: '127.0.0.1', port: simulator.port, username: 'simcast', secret: 'simcast', log, actionTimeoutMs: 5000 });
  assert.equal(await gateway.start(), true);
});

after(async () => {
  await gateway?.close();
  await simulator?.close();
  await testDb?.drop();
});

test('a 1000-recipient campaign over 3 SIMs (100/day, window 09–21, one SIM failing midway) keeps every limit and ends on the forecast day', async () => {
  const knex = testDb.db.knex;
  // Monday 2026-11-23, 08:00 in Moscow: the window opens at 09:00.
  const clock = new FakeClock('2026-11-23T08:00:00+03:00');
  const settingsRepo = new SettingsRepo(knex);
  await settingsRepo.update({ timezone: tz, window: { from: '09:00', to: '21:00' }, dailyLimit: 100, monthlyLimit: 3000, sendPauseSeconds: 20, sendPauseMaxSeconds: 40 }, clock.now());
  const sims = new SimsRepo(knex);
  const dispatcher = new Dispatcher({
    repo: new DispatchRepo(knex, 'pbx-1'),
    sims,
    gateway,
    clock,
    log,
    settings: () => settingsRepo.get(),
    random: seededRandom(42), // deterministic pauses
  });
  await dispatcher.recover();

  const lists = new ListsRepo(knex);
  const listId = await lists.create(
    { name: 'Тысяча', fileName: 't.xlsx', columns: ['Телефон', 'Имя'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    Array.from({ length: recipients }, (_, i) => ({ rowNumber: i + 2, phone: `+7916${String(i).padStart(7, '0')}`, fields: { Телефон: '', Имя: `Клиент ${i}` } })),
    clock.now(),
  );
  // Advertising goes only to numbers with consent: every recipient signed a form a month ago.
  await knex.batchInsert('consents', Array.from({ length: recipients }, (_, i) => ({
    phone: `+7916${String(i).padStart(7, '0')}`, action: 'given', at: new Date('2026-10-23T12:00:00+03:00'),
    source: 'бумажная анкета', document: `анкета ${i}`, recorded_by: 'user:admin', recorded_at: new Date('2026-10-23T12:00:00+03:00'),
  })), 500);
  const campaigns = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: settingsRepo, clock, compliance: campaignCompliance(knex, exclusionReasons) });
  const { campaign } = await campaigns.create({ name: 'Многодневная', listId, template: 'Здравствуйте, {{Имя}}! Скидка 10% до пятницы.', kind: 'advertising', createdBy: null });
  assert.equal((await campaigns.act(campaign.id, 'start')).status, 'running');

  // The dispatcher learns the SIMs on its first pass (before the window: nothing is sent).
  const first = await dispatcher.tick();
  assert.equal(first.claimed, 0, 'nothing goes out before 09:00');
  const scheduler = new CampaignScheduler(knex, sims, settingsRepo, () => gateway.listModems(), clock);
  const before = await scheduler.schedule((await campaigns.get(campaign.id)));
  assert.equal(before.waiting?.reason, 'window');
  assert.ok(before.forecast.finishAt);
  const forecastDay = dayKey(before.forecast.finishAt, tz);
  assert.equal(forecastDay, '2026-11-26', `300 a day: the 1000th message goes on day 4 (${before.forecast.text})`);

  let finishedAt = null as Date | null;
  dispatcher.events.on('campaign-finished', () => (finishedAt = clock.now()));
  let settled = 0;
  dispatcher.events.on('message', (e) => {
    if (e.state !== 'sending') settled++;
  });
  let failingFrom: number | null = null;

  for (let step = 0; step < 20_000 && !finishedAt; step++) {
    const target = settled;
    const r = await dispatcher.tick();
    // Wait for the reports of what this pass handed to the modems (real AMI round trips).
    if (r.claimed > 0) await until(() => settled >= target + r.claimed);
    // One SIM starts failing after 450 messages and recovers 2 hours later (simulated).
    const sent = simulator.sent.length;
    if (failingFrom === null && sent >= 450) {
      simulator.setMode('dongle2', 'fail');
      failingFrom = clock.now().getTime();
    } else if (failingFrom !== null && clock.now().getTime() - failingFrom > 2 * 3600_000 && simulator.modeOf('dongle2') === 'fail') {
      simulator.setMode('dongle2', 'ok');
    }
    if (r.inFlight === 0 && r.claimed === 0 && !finishedAt) {
      assert.ok(r.wakeAt, `the dispatcher must say when to look again (step ${step}, ${clock.now().toISOString()})`);
      clock.set(new Date(Math.max(r.wakeAt.getTime(), clock.now().getTime() + 1)));
    }
  }
  assert.ok(finishedAt, 'the campaign finished');

  // Every recipient in exactly one final state; failed ones never retried.
  const states = await knex('messages').where({ campaign_id: campaign.id }).groupBy('state').select('state', knex.raw('count(*)::int as n'));
  const byState = Object.fromEntries(states.map((r: { state: MessageState; n: number }) => [r.state, r.n]));
  assert.equal((byState.sent ?? 0) + (byState.failed ?? 0), recipients, JSON.stringify(byState));
  assert.ok((byState.failed ?? 0) > 0, 'the failing SIM produced failures');
  const perNumber = new Map<string, number>();
  for (const s of simulator.sent) perNumber.set(s.number, (perNumber.get(s.number) ?? 0) + 1);
  assert.equal(perNumber.size, recipients);
  assert.ok([...perNumber.values()].every((n) => n === 1), 'no number was handed to a modem twice');

  // No SIM over 100 parts on any local day, by the ledger and by the messages themselves.
  const ledger = await knex('sim_usage').where('period', 'like', 'day:%').select('imsi', 'period', 'parts');
  assert.ok(ledger.length > 0);
  for (const row of ledger) assert.ok(row.parts <= 100, `${row.imsi} ${row.period}: ${row.parts}`);
  const claimedPerDay = new Map<string, number>();
  for (const m of await knex('messages').where({ campaign_id: campaign.id }).select('imsi', 'claimed_at', 'parts')) {
    const key = `${m.imsi} ${dayKey(new Date(m.claimed_at), tz)}`;
    claimedPerDay.set(key, (claimedPerDay.get(key) ?? 0) + m.parts);
  }
  for (const [key, parts] of claimedPerDay) assert.ok(parts <= 100, `${key}: ${parts}`);
  // Nothing sent outside 09:00–21:00 Moscow.
  for (const m of await knex('messages').where({ campaign_id: campaign.id }).select('claimed_at')) {
    const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(new Date(m.claimed_at)));
    assert.ok(hour >= 9 && hour < 21, `claimed at ${new Date(m.claimed_at).toISOString()}`);
  }

  assert.equal(dayKey(finishedAt!, tz), forecastDay, `finished ${finishedAt!.toISOString()}, forecast ${before.forecast.text}`);
});

/** Waits for the simulator's real-time reports (milliseconds); dispatcher time is the fake clock. */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('reports did not arrive in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
