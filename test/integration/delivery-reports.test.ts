/**
 * Delivery reports on (`Report: yes`): chan_dongle then raises no event when the modem submits the
 * SMS, so the dispatcher reads it off chan_dongle's queue (TasksInQueue) and frees the modem at
 * once; the operator's report (Type 1) comes whenever it comes. PostgreSQL and the simulator over
 * TCP; dispatcher time is a fake clock (the simulator's modems and the queue polls are real time).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { DispatchRepo } from '../../src/dispatcher/dispatch-repo.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import type { MessageState } from '../../src/dispatcher/message-state.js';
import { createLogger } from '../../src/logger.js';
import { DongleGateway } from '../../src/modems/ami/dongle-gateway.js';
import { defaultSettings, type Settings } from '../../src/settings/settings.js';
import { AmiSimulator, type AmiSimulatorOptions } from '../../src/simulator/ami-simulator.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testModems, testSettings } from '../helpers/harness.js';
import { connectedGateway, runningCampaign as startCampaign, waitUntil } from '../helpers/dispatch-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
/** Every SIM pauses exactly this long after each SMS (min = max): the pace the runs are compared on. */
const PAUSE_SECONDS = 10;

interface Row {
  id: number;
  phone: string;
  state: MessageState;
  imsi: string | null;
  claimed_at: Date | null;
  sent_at: Date | null;
}

describe('delivery reports: the modem is free when the SMS leaves it, the report comes later', () => {
  let testDb: TestDatabase;
  let simulator: AmiSimulator;
  let gateways: DongleGateway[] = [];
  let clock: FakeClock;
  let settings: Settings;
  /** Messages marked `sent` while the modem had not yet transmitted them (must stay empty). */
  let early: number[] = [];

  before(async () => {
    testDb = await createTestDatabase();
  });
  after(async () => {
    await testDb.drop();
  });
  beforeEach(async () => {
    clock = new FakeClock();
    settings = { ...defaultSettings, ...testSettings, sendPauseSeconds: PAUSE_SECONDS, sendPauseMaxSeconds: PAUSE_SECONDS, messageTimeoutSeconds: 90 };
    await testDb.db.knex.raw('truncate campaigns, lists, messages, list_contacts, sims, sim_usage restart identity cascade');
  });
  afterEach(async () => {
    assert.deepEqual(early, [], 'messages marked sent before the modem submitted them');
    early = [];
    for (const g of gateways) await g.close();
    gateways = [];
    await simulator.close();
  });

  /** The simulator; delivery reports held until the test releases them (`deliverReportsNow`). */
  async function simulate(options: Partial<AmiSimulatorOptions> = {}): Promise<AmiSimulator> {
    simulator = await AmiSimulator.start({ modems: testModems, delayPerPartMs: 20, deliveryReportDelayMs: null, authFailDelayMs: 10, ...options });
    return simulator;
  }

  async function gateway(): Promise<DongleGateway> {
    const g = await connectedGateway(simulator.port, log);
    gateways.push(g);
    return g;
  }

  /**
   * A dispatcher whose every `sent` is checked against the simulator: the modem must already have
   * transmitted that SMS (never `sent` while it still waits in chan_dongle's queue).
   */
  function dispatcher(g: DongleGateway, instanceId = 'pbx-1'): Dispatcher {
    const d = new Dispatcher({
      repo: new DispatchRepo(testDb.db.knex, instanceId),
      sims: new SimsRepo(testDb.db.knex),
      gateway: g,
      clock,
      log,
      settings: async () => settings,
      queuePollMs: 10,
    });
    d.events.on('message', ({ id, state }) => {
      if (state !== 'sent') return;
      const transmitted = simulator.sent.filter((s) => s.payload === `simcast-0-${id}`);
      if (transmitted.length !== 1 || transmitted[0]!.outcome !== 'sent') early.push(id);
    });
    return d;
  }

  const runningCampaign = (phones: string[]) => startCampaign(testDb.db.knex, clock, phones);

  async function rows(campaignId: number): Promise<Row[]> {
    return testDb.db.knex('messages').where({ campaign_id: campaignId }).orderBy('id').select('id', 'phone', 'state', 'imsi', 'claimed_at', 'sent_at');
  }

  /** Resolves once `count` messages reached one of `states` (dispatcher events; no sleeping). */
  async function reached(d: Dispatcher, states: MessageState[], count: number): Promise<void> {
    let seen = 0;
    const signal = AbortSignal.timeout(10_000);
    while (seen < count) {
      const [e] = (await once(d.events, 'message', { signal })) as [{ state: MessageState }];
      if (states.includes(e.state)) seen++;
    }
  }

  /** Counts the messages `d` settles (any state after `sending`) from now on; `until(n)` awaits the n-th. */
  function settledCounter(d: Dispatcher): { until: (n: number) => Promise<void>; stop: () => void } {
    let count = 0;
    let waiter: { n: number; resolve: () => void } | null = null;
    const on = ({ state }: { state: MessageState }) => {
      if (state === 'sending' || state === 'waiting') return;
      count++;
      if (waiter && count >= waiter.n) waiter.resolve();
    };
    d.events.on('message', on);
    return {
      until: (n) =>
        count >= n
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`only ${count} of ${n} messages settled`)), 10_000);
              waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
            }),
      stop: () => d.events.off('message', on),
    };
  }

  /**
   * Drives the dispatcher through a whole campaign in fake time: a tick, the SMS it handed out
   * leaving the modems (real time, the simulator's), then the clock moved to the next wake-up.
   */
  async function runToEnd(d: Dispatcher, campaignId: number): Promise<void> {
    let finished = false;
    const onFinished = ({ campaignId: id }: { campaignId: number }) => {
      if (id === campaignId) finished = true;
    };
    d.events.on('campaign-finished', onFinished);
    const settled = settledCounter(d);
    try {
      let handedOut = 0;
      for (let round = 0; !finished; round++) {
        assert.ok(round < 200, 'the campaign does not finish');
        const { claimed, wakeAt } = await d.tick();
        handedOut += claimed;
        // Each claimed SMS settles (Type 0 without reports, its queue with them); then tick again.
        if (claimed > 0) await settled.until(handedOut);
        else if (!finished && wakeAt) clock.set(wakeAt);
      }
    } finally {
      settled.stop();
      d.events.off('campaign-finished', onFinished);
    }
  }

  /** Per SIM, the fake-clock gaps between its consecutive claims (ms). */
  function claimGaps(list: Row[]): Record<string, number[]> {
    const bySim: Record<string, number[]> = {};
    for (const r of [...list].sort((a, b) => a.claimed_at!.getTime() - b.claimed_at!.getTime())) (bySim[r.imsi!] ??= []).push(r.claimed_at!.getTime());
    return Object.fromEntries(Object.entries(bySim).map(([imsi, times]) => [imsi, times.slice(1).map((t, i) => t - times[i]!)]));
  }

  const phones = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `+7912${prefix}${String(i).padStart(4, '0')}`);

  test('a campaign with delivery reports keeps the pace of one without; late reports then settle delivered or failed', async () => {
    await simulate();
    const start = clock.now().getTime();
    // Without delivery reports: each SMS settles on its Type 0 report.
    settings = { ...settings, deliveryReports: false };
    const d = dispatcher(await gateway());
    await d.recover();
    const plain = await runningCampaign(phones('100', 8));
    await runToEnd(d, plain);
    const plainRows = await rows(plain);
    const plainTook = clock.now().getTime() - start;

    // The same campaign with delivery reports, none of which arrives while it runs.
    clock.set(new Date(clock.now().getTime() + 3600_000));
    const restart = clock.now().getTime();
    settings = { ...settings, deliveryReports: true };
    const lost = '+79129990001';
    const refused = '+79129990002';
    simulator.deliveryStatuses.set(lost, [32]); // temporary error: chan_dongle keeps waiting, no Type 1 ever
    simulator.deliveryStatuses.set(refused, [64]); // permanent error: Type 1 Success 0
    const withReports = await runningCampaign([...phones('200', 6), lost, refused]);
    await runToEnd(d, withReports);
    const reportRows = await rows(withReports);

    assert.ok(plainRows.every((r) => r.state === 'sent'));
    assert.ok(reportRows.every((r) => r.state === 'sent'), 'left the modem = sent, with no report at all yet');
    assert.ok(reportRows.every((r) => r.sent_at !== null && r.sent_at.getTime() === r.claimed_at!.getTime()), 'sent_at is when the SMS left (the fake clock stood still), never a report');
    // The same pace: every SIM's claims follow each other by its pause alone, with or without reports.
    assert.deepEqual(claimGaps(reportRows), claimGaps(plainRows));
    for (const gaps of Object.values(claimGaps(reportRows))) assert.deepEqual(gaps, gaps.map(() => PAUSE_SECONDS * 1000));
    assert.equal(clock.now().getTime() - restart, plainTook, 'the campaign took as long with delivery reports');
    assert.ok(simulator.received.some((a) => a.action === 'DongleSendSMS' && a.headers.report === 'yes'));

    // Days later the operator's reports come in: sent → delivered, or failed; the lost one stays sent.
    clock.advance(3 * 86_400_000);
    const settled = reached(d, ['delivered', 'failed'], 7);
    assert.equal(simulator.deliverReportsNow(), 7);
    await settled;
    const final = Object.fromEntries((await rows(withReports)).map((r) => [r.phone, r.state]));
    assert.equal(final[lost], 'sent', 'a report that never comes leaves the message sent, not unknown');
    assert.equal(final[refused], 'failed');
    assert.deepEqual(Object.entries(final).filter(([p]) => p !== lost && p !== refused).map(([, s]) => s), Array(6).fill('delivered'));
    const failedRow = await testDb.db.knex('messages').where({ phone: refused, campaign_id: withReports }).first('error', 'sent_at');
    assert.match(failedRow.error, /не доставлено/);
    assert.ok(failedRow.sent_at, 'a failed delivery keeps the time the SMS left the modem');
    assert.equal(new Set(simulator.sent.map((s) => s.payload)).size, simulator.sent.length, 'nothing was sent twice');
  });

  test('a report days late, after a restart, still turns sent into delivered', async () => {
    await simulate();
    settings = { ...settings, deliveryReports: true };
    const g1 = await gateway();
    const first = dispatcher(g1);
    await first.recover();
    const campaignId = await runningCampaign(phones('300', 2));
    await runToEnd(first, campaignId);
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['sent', 'sent']);
    await first.drain(1000);
    first.detach();
    await g1.close();

    clock.advance(2 * 86_400_000);
    const restarted = dispatcher(await gateway(), 'pbx-1');
    await restarted.recover();
    const delivered = reached(restarted, ['delivered'], 2);
    simulator.deliverReportsNow();
    await delivered;
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['delivered', 'delivered']);
  });

  test('a delivery report of a message long sent does not touch its SIM’s pacing', async () => {
    await simulate();
    settings = { ...settings, deliveryReports: true };
    const d = dispatcher(await gateway());
    await d.recover();
    const campaignId = await runningCampaign(phones('400', 1));
    await runToEnd(d, campaignId);
    const [row] = await rows(campaignId);
    const before = await testDb.db.knex('sims').where({ imsi: row!.imsi }).first('next_send_at');
    clock.advance(3600_000);
    const delivered = reached(d, ['delivered'], 1);
    simulator.deliverReportsNow();
    await delivered;
    const afterReport = await testDb.db.knex('sims').where({ imsi: row!.imsi }).first('next_send_at');
    assert.deepEqual(afterReport.next_send_at, before.next_send_at, 'the SIM was paced when the SMS left, not again at its report');
  });

  test('a queue that never drains → unknown after the timeout; the modem gets nothing more meanwhile', async () => {
    // A modem that never answers +CMGS, and chan_dongle that does not drop it within the test.
    await simulate({ modems: [testModems[0]!], atTimeoutMs: 600_000 });
    simulator.setMode('dongle0', 'hang');
    settings = { ...settings, deliveryReports: true };
    const d = dispatcher(await gateway());
    await d.recover();
    const campaignId = await runningCampaign(phones('500', 2));
    assert.equal((await d.tick()).claimed, 1);
    // Polls see our SMS in the queue, again and again.
    const polls = () => simulator.received.filter((a) => a.action === 'DongleShowDevices' && a.headers.device === 'dongle0').length;
    await waitUntil(() => polls() >= 3);
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['sending', 'waiting']);
    clock.advance(89_000);
    await d.tick();
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['sending', 'waiting'], 'still within the timeout');
    clock.advance(1_000);
    const unknown = reached(d, ['unknown'], 1);
    await d.tick();
    await unknown;
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['unknown', 'waiting'], 'the next SMS waits for the stuck queue');
    assert.equal(simulator.sent.length, 1);
  });

  test('a modem dropped with our SMS in its queue: the empty queue after it proves nothing', async () => {
    // chan_dongle drops the hung modem after its AT timeout, flushing the queue silently, and finds it again.
    await simulate({ modems: [testModems[0]!], atTimeoutMs: 50, reconnectAfterMs: 50 });
    simulator.setMode('dongle0', 'hang');
    settings = { ...settings, deliveryReports: true };
    const d = dispatcher(await gateway());
    await d.recover();
    const campaignId = await runningCampaign(phones('600', 1));
    assert.equal((await d.tick()).claimed, 1);
    // Back and idle: TasksInQueue 0. Ten poll intervals later the message is still not `sent`.
    await waitUntil(() => simulator.modeOf('dongle0') === 'ok');
    assert.equal((await gateways[0]!.listModems('dongle0'))[0]?.queue, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['sending']);
    clock.advance(90_000);
    const unknown = reached(d, ['unknown'], 1);
    await d.tick();
    await unknown;
    assert.deepEqual((await rows(campaignId)).map((r) => r.state), ['unknown']);
  });

  test('two instances on one AMI, SMS queued behind each other on the same modems: each sent once, never early', async () => {
    // Pauses 0 and a slow modem: one instance's SMS often waits in the queue behind the other's.
    settings = { ...settings, deliveryReports: true, sendPauseSeconds: 0, sendPauseMaxSeconds: 0 };
    await simulate({ delayPerPartMs: 40 });
    const a = dispatcher(await gateway(), 'pbx-a');
    const b = dispatcher(await gateway(), 'pbx-b');
    await a.recover();
    await b.recover();
    const campaignId = await runningCampaign(phones('700', 12));
    const settledCount = async () => (await rows(campaignId)).filter((r) => r.state !== 'waiting' && r.state !== 'sending').length;
    for (let round = 0; (await settledCount()) < 12; round++) {
      assert.ok(round < 100, 'the campaign does not finish');
      // Some SMS leaves a modem (the other instance's may still wait behind it), then both tick again.
      const next = Promise.race([reached(a, ['sent'], 1), reached(b, ['sent'], 1)]);
      await Promise.all([a.tick(), b.tick()]);
      if ((await settledCount()) < 12) await next;
    }
    const final = await rows(campaignId);
    assert.ok(final.every((r) => r.state === 'sent'), JSON.stringify(final.map((r) => r.state)));
    assert.equal(simulator.sent.length, 12);
    assert.equal(new Set(simulator.sent.map((s) => s.payload)).size, 12, 'nothing sent twice');
  });
});
