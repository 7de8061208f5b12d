import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
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
import { defaultSettings, type Settings } from '../../src/settings/settings.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testModems, testSettings } from '../helpers/harness.js';
import { connectedGateway, runningCampaign as startCampaign, waitUntil } from '../helpers/dispatch-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

describe('dispatcher against PostgreSQL and the simulator over TCP', () => {
  let testDb: TestDatabase;
  let simulator: AmiSimulator;
  let gateways: DongleGateway[] = [];
  let clock: FakeClock;
  let settings: Settings;

  before(async () => {
    testDb = await createTestDatabase();
  });
  after(async () => {
    await testDb.drop();
  });
  beforeEach(async () => {
    simulator = await AmiSimulator.start({ modems: testModems, delayPerPartMs: 5, authFailDelayMs: 10, atTimeoutMs: 100, reconnectAfterMs: 100 });
    clock = new FakeClock();
    settings = { ...defaultSettings, ...testSettings, messageTimeoutSeconds: 90 };
    await testDb.db.knex.raw('truncate campaigns, lists, messages, list_contacts, sims, sim_usage restart identity cascade');
  });
  afterEach(async () => {
    for (const g of gateways) await g.close();
    gateways = [];
    await simulator.close();
  });

  async function gateway(): Promise<DongleGateway> {
    const g = await connectedGateway(simulator.port, log);
    gateways.push(g);
    return g;
  }

  function dispatcher(g: DongleGateway, instanceId = 'pbx-1'): Dispatcher {
    return new Dispatcher({ repo: new DispatchRepo(testDb.db.knex, instanceId), sims: new SimsRepo(testDb.db.knex), gateway: g, clock, log, settings: async () => settings });
  }

  const runningCampaign = (phones: string[]) => startCampaign(testDb.db.knex, clock, phones);

  /** dongle0 hangs (no report ever), dongle1 is gone; a running campaign to these numbers. */
  async function hungModemCampaign(phones: string[]): Promise<number> {
    simulator.setMode('dongle0', 'hang');
    simulator.setMode('dongle1', 'disconnected');
    return runningCampaign(phones);
  }

  async function states(campaignId: number): Promise<Record<string, MessageState>> {
    const rows = await testDb.db.knex('messages').where({ campaign_id: campaignId }).select('phone', 'state');
    return Object.fromEntries(rows.map((r: { phone: string; state: MessageState }) => [r.phone, r.state]));
  }

  /** Calls `seen` with the SQL of every statement run from now on, until the returned function is called. */
  function watchStatements(seen: (sql: string) => void): () => void {
    const onQuery = (q: { sql: string }) => seen(q.sql);
    testDb.db.knex.on('query', onQuery);
    return () => testDb.db.knex.off('query', onQuery);
  }

  /** Waits until `count` messages have reached `state` (awaits dispatcher events, never sleeps). */
  async function reached(d: Dispatcher, state: MessageState, count: number): Promise<void> {
    let seen = 0;
    const signal = AbortSignal.timeout(10_000);
    while (seen < count) {
      const [e] = (await once(d.events, 'message', { signal })) as [{ state: MessageState }];
      if (e.state === state) seen++;
    }
  }

  test('a restart turns this instance’s in-flight message into unknown; it is never re-sent', async () => {
    const g1 = await gateway();
    const campaignId = await hungModemCampaign(['+79120000001', '+79120000002']);
    const crashed = dispatcher(g1);
    await crashed.recover();
    await crashed.tick();
    assert.equal((await states(campaignId))['+79120000001'], 'sending');
    // The process "dies" here: no more ticks, its gateway gone.
    await g1.close();

    // Another instance sharing the database must not touch pbx-1's row.
    await new DispatchRepo(testDb.db.knex, 'pbx-2').recoverInFlight(clock.now(), 'restart of pbx-2');
    const g2 = await gateway();
    assert.equal((await states(campaignId))['+79120000001'], 'sending');

    await waitUntil(() => simulator.modeOf('dongle0') === 'ok');
    simulator.setMode('dongle1', 'ok');
    const restarted = dispatcher(g2);
    await restarted.recover();
    assert.equal((await states(campaignId))['+79120000001'], 'unknown');
    const finished = once(restarted.events, 'campaign-finished');
    const sent = reached(restarted, 'sent', 1);
    await restarted.tick();
    await sent;
    await restarted.tick();
    await finished;
    assert.deepEqual(await states(campaignId), { '+79120000001': 'unknown', '+79120000002': 'sent' });
    const toFirst = simulator.sent.filter((s) => s.number === '+79120000001');
    assert.deepEqual(toFirst.map((s) => s.outcome), ['hung'], 'the first number was handed to chan_dongle once, never again');
  });

  test('no report within the timeout → unknown, and the modem takes the next message', async () => {
    const g = await gateway();
    const campaignId = await hungModemCampaign(['+79120000011', '+79120000012']);
    const d = dispatcher(g);
    await d.recover();
    await d.tick();
    clock.advance(89_000);
    await d.tick();
    assert.equal((await states(campaignId))['+79120000011'], 'sending', 'still within the timeout');
    // chan_dongle drops the hung modem (AT timeout), flushing its queue without a report, then finds it again.
    await waitUntil(() => simulator.modeOf('dongle0') === 'ok');
    clock.advance(1_000);
    const sent = reached(d, 'sent', 1);
    await d.tick();
    await sent;
    const row = await testDb.db.knex('messages').where({ phone: '+79120000011' }).first('state', 'error');
    assert.equal(row.state, 'unknown');
    assert.match(row.error, /Нет ответа от модема за 90 с/);
    assert.equal((await states(campaignId))['+79120000012'], 'sent');
  });

  test('chan_dongle refusing the action (device disconnected) puts the message back; it goes out later', async () => {
    const g = await gateway();
    const d = dispatcher(g);
    await d.recover();
    await d.tick(); // learn the modems while both are ready
    const campaignId = await runningCampaign(['+79120000021']);
    simulator.setMode('dongle0', 'disconnected');
    simulator.setMode('dongle1', 'disconnected');
    // The dispatcher still believes the modems are ready until its next refresh: the refusal must be safe.
    await d.tick();
    const row = await testDb.db.knex('messages').where({ campaign_id: campaignId }).first('state', 'attempts', 'not_before', 'error');
    // Either the status events reached the dispatcher first (nothing claimed), or chan_dongle
    // refused the action: then the message is back in the queue with a backoff.
    if (row.attempts === 1) {
      assert.equal(row.state, 'waiting');
      assert.match(row.error, /disconnected/i);
      assert.ok(new Date(row.not_before) > clock.now());
    }
    simulator.setMode('dongle0', 'ok');
    clock.advance(10 * 60_000);
    const sent = reached(d, 'sent', 1);
    await d.tick();
    await sent;
    assert.equal((await states(campaignId))['+79120000021'], 'sent');
    assert.equal(simulator.sent.filter((s) => s.number === '+79120000021').length, 1);
  });

  test('the modem refusing an SMS → failed with the reason, not retried', async () => {
    const g = await gateway();
    simulator.failNumbers.add('+79120000031');
    const campaignId = await runningCampaign(['+79120000031']);
    const d = dispatcher(g);
    await d.recover();
    const failed = reached(d, 'failed', 1);
    await d.tick();
    await failed;
    clock.advance(3600_000);
    await d.tick();
    const row = await testDb.db.knex('messages').where({ campaign_id: campaignId }).first('state', 'error');
    assert.equal(row.state, 'failed');
    assert.ok(row.error);
    assert.equal(simulator.sent.filter((s) => s.number === '+79120000031').length, 1);
  });

  test('pause acts before the next message; cancel skips the rest', async () => {
    const g = await gateway();
    simulator.setMode('dongle1', 'disconnected');
    const phones = ['+79120000041', '+79120000042', '+79120000043'];
    const campaignId = await runningCampaign(phones);
    const knex = testDb.db.knex;
    const service = new CampaignsService({ repo: new CampaignsRepo(knex), lists: new ListsRepo(knex), settings: new SettingsRepo(knex), clock, compliance: campaignCompliance(knex, exclusionReasons) });
    const d = dispatcher(g);
    await d.recover();
    const first = reached(d, 'sent', 1);
    await d.tick();
    await first;
    await service.act(campaignId, 'pause');
    await d.tick();
    await d.tick();
    assert.equal(Object.values(await states(campaignId)).filter((s) => s === 'waiting').length, 2);
    await service.act(campaignId, 'cancel');
    assert.deepEqual(Object.values(await states(campaignId)).sort(), ['sent', 'skipped', 'skipped']);
    assert.equal(simulator.sent.length, 1);
  });

  test("another instance's messages: left alone while it may be running, settled as unknown once orphaned", async () => {
    const g = await gateway();
    simulator.setMode('dongle0', 'disconnected');
    simulator.setMode('dongle1', 'disconnected');
    const campaignId = await runningCampaign(['+79120000051', '+79120000052']);
    const knex = testDb.db.knex;
    const ids: number[] = await knex('messages').where({ campaign_id: campaignId }).orderBy('id').pluck('id');
    // pbx-2 claimed one two hours ago and one a minute ago, then went silent.
    await knex('messages').where({ id: ids[0] }).update({ state: 'sending', instance_id: 'pbx-2', claimed_at: new Date(clock.now().getTime() - 2 * 3600_000) });
    await knex('messages').where({ id: ids[1] }).update({ state: 'sending', instance_id: 'pbx-2', claimed_at: new Date(clock.now().getTime() - 60_000) });
    const d = dispatcher(g);
    await d.recover();
    await d.tick();
    assert.deepEqual(await states(campaignId), { '+79120000051': 'unknown', '+79120000052': 'sending' });
  });

  test('racing claims on one SIM never take it past its daily limit', async () => {
    await runningCampaign(Array.from({ length: 30 }, (_, i) => `+791400000${String(i).padStart(2, '0')}`));
    await new SimsRepo(testDb.db.knex).seen([{ imsi: '250990000000777', device: 'dongle7' }], 'pbx-a', clock.now(), {
      dailyLimit: 5,
      monthlyLimit: 3000,
      minPauseSeconds: 0,
      maxPauseSeconds: 0,
      pricePerPart: 0.06,
    });
    const repos = [new DispatchRepo(testDb.db.knex, 'pbx-a'), new DispatchRepo(testDb.db.knex, 'pbx-b')];
    const ctx = { now: clock.now(), timeZone: 'Europe/Moscow', windowOpen: true, notificationsIgnoreWindow: true, maxPartsPerMessage: 10, random: () => 0 };
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => repos[i % 2]!.claimForSim('250990000000777', 'dongle7', ctx)));
    assert.equal(outcomes.filter((o) => o.kind === 'claimed').length, 5);
    assert.ok(outcomes.filter((o) => o.kind !== 'claimed').every((o) => o.kind === 'sim-unavailable' && o.reason === 'daily-limit'));
    const ledger = await testDb.db.knex('sim_usage').where({ imsi: '250990000000777' }).orderBy('period').select('period', 'parts');
    assert.deepEqual(ledger.map((r: { parts: number }) => r.parts), [5, 5]);
  });

  test("a tick's free modems claim side by side; with no notification waiting, one probe per idle spell, not one per modem", async () => {
    const g = await gateway();
    const campaignId = await runningCampaign(['+79120000051', '+79120000052', '+79120000053', '+79120000054', '+79120000055', '+79120000056']);
    const d = dispatcher(g); // idleMs: the default 5 s
    await d.recover();
    const knex = testDb.db.knex;
    // Connections ready for both claims, so that neither waits for one to be opened.
    await Promise.all([1, 2, 3].map(() => knex.raw('select 1')));
    let probes = 0;
    /** Each claim's first and last statement, in the order they went out: 'lock' or 'reserve'. */
    let order: string[] = [];
    const count = (sql: string) => {
      // The notification claim (served by priority) and, when it finds none, its exact look.
      if (sql.includes('order by priority desc') || sql.includes(') as waits')) probes++;
      if (sql.includes('from sims s where s.imsi')) order.push('lock');
      if (sql.startsWith('with facts as')) order.push('reserve');
    };
    /** One tick that sends on both modems: its probes and its claims' statement order. */
    const tickBoth = async () => {
      probes = 0;
      order = [];
      const sent = reached(d, 'sent', 2);
      assert.equal((await d.tick()).claimed, 2);
      await sent;
      return { probes, order };
    };
    const stop = watchStatements(count);
    try {
      // First tick: the probe is due. The first modem's claim probes alone and finds none; the other skips it.
      let tick = await tickBoth();
      assert.equal(tick.probes, 2, 'one claim probe (finds none) and its exact look');
      assert.deepEqual(tick.order, ['lock', 'reserve', 'lock', 'reserve'], 'the probing claim runs alone');
      // Within the spell no claim probes: both modems claim at once.
      tick = await tickBoth();
      assert.equal(tick.probes, 0);
      assert.deepEqual(tick.order.slice(0, 2), ['lock', 'lock'], 'both claims started before either reserved');
      // The spell over: one claim probes again, alone.
      clock.advance(5000);
      tick = await tickBoth();
      assert.equal(tick.probes, 2);
      assert.deepEqual(tick.order, ['lock', 'reserve', 'lock', 'reserve']);
    } finally {
      stop();
    }
    assert.deepEqual(Object.values(await states(campaignId)), Array(6).fill('sent'));
    assert.equal(simulator.sent.length, 6);
  });

  test('a SIM in the pause after its SMS is not asked for work until the pause ends; the tick wakes at its end', async () => {
    settings = { ...settings, sendPauseSeconds: 30, sendPauseMaxSeconds: 30 };
    const g = await gateway();
    const campaignId = await runningCampaign(['+79120000061', '+79120000062', '+79120000063', '+79120000064']);
    const d = dispatcher(g);
    await d.recover();
    const knex = testDb.db.knex;
    let locks = 0;
    const stop = watchStatements((sql) => {
      if (sql.includes('from sims s where s.imsi')) locks++;
    });
    try {
      const sent = reached(d, 'sent', 2);
      assert.equal((await d.tick()).claimed, 2);
      await sent;
      const pauseEnds = clock.now().getTime() + 30_000;
      const slots = await knex('sims').orderBy('imsi').pluck('next_send_at');
      assert.deepEqual(slots.map((t: Date) => t.getTime()), [pauseEnds, pauseEnds], 'the pause as written at the report');
      locks = 0;
      let tick = await d.tick();
      assert.equal(tick.claimed, 0);
      assert.equal(locks, 0, 'no claim asked a pausing SIM');
      assert.equal(tick.wakeAt?.getTime(), pauseEnds, 'the loop sleeps until the pause ends');
      clock.advance(29_999);
      tick = await d.tick();
      assert.equal(tick.claimed + locks, 0);
      clock.advance(1);
      const more = reached(d, 'sent', 2);
      tick = await d.tick();
      assert.equal(tick.claimed, 2, 'the pause over, both SIMs take the next message');
      assert.equal(locks, 2);
      await more;
    } finally {
      stop();
    }
    assert.deepEqual(Object.values(await states(campaignId)), Array(4).fill('sent'));
  });

  test("a campaign is checked for completion once none of its messages is in flight here, not at every report", async () => {
    simulator.setDelay('dongle1', 300);
    const g = await gateway();
    const campaignId = await runningCampaign(['+79120000071', '+79120000072']);
    const d = dispatcher(g);
    await d.recover();
    let checks = 0;
    const finished: number[] = [];
    d.events.on('campaign-finished', (e) => finished.push(e.campaignId));
    const stop = watchStatements((sql) => {
      if (sql.startsWith('update "campaigns"')) checks++;
    });
    try {
      const first = reached(d, 'sent', 1);
      assert.equal((await d.tick()).claimed, 2);
      await first;
      checks = 0;
      assert.equal((await d.tick()).inFlight, 1, 'the slow modem still sends the other message');
      assert.equal(checks, 0, 'not checked while a message of the campaign is in flight here');
      await reached(d, 'sent', 1);
      await d.tick();
      assert.equal(checks, 1, 'checked once its last message in flight has settled');
      assert.deepEqual(finished, [campaignId]);
    } finally {
      stop();
    }
    assert.deepEqual(Object.values(await states(campaignId)), ['sent', 'sent']);
  });

  test('two instances on one database never claim the same message', async () => {
    const phones = Array.from({ length: 40 }, (_, i) => `+791300000${String(i).padStart(2, '0')}`);
    const campaignId = await runningCampaign(phones);
    const imsis = Array.from({ length: 20 }, (_, i) => `2509900000001${String(i).padStart(2, '0')}`);
    await new SimsRepo(testDb.db.knex).seen(imsis.map((imsi, i) => ({ imsi, device: `dongle${i}` })), 'pbx-a', clock.now(), {
      dailyLimit: 100,
      monthlyLimit: 3000,
      minPauseSeconds: 0,
      maxPauseSeconds: 0,
      pricePerPart: 0.06,
    });
    const repos = [new DispatchRepo(testDb.db.knex, 'pbx-a'), new DispatchRepo(testDb.db.knex, 'pbx-b')];
    const ctx = { now: clock.now(), timeZone: 'Europe/Moscow', windowOpen: true, notificationsIgnoreWindow: true, maxPartsPerMessage: 10, random: () => 0 };
    const ids: number[] = [];
    for (let round = 0; round < 3; round++) {
      const outcomes = await Promise.all(imsis.map((imsi, i) => repos[i % 2]!.claimForSim(imsi, `dongle${i}`, ctx)));
      for (const o of outcomes) if (o.kind === 'claimed') ids.push(o.message.id);
    }
    assert.equal(ids.length, 40);
    assert.equal(new Set(ids).size, 40);
    const left = await testDb.db.knex('messages').where({ campaign_id: campaignId, state: 'waiting' }).count<{ n: number }[]>('* as n');
    assert.equal(Number(left[0]?.n), 0);
    const ledger = await testDb.db.knex('sim_usage').where('period', 'like', 'day:%').sum<{ total: number }[]>('parts as total');
    assert.equal(Number(ledger[0]?.total), 40, 'every claimed part is in the ledger');
  });
});
