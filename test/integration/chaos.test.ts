/**
 * Chaos tests (issue 3, "What must show"), against real PostgreSQL and the chan_dongle simulator
 * over TCP:
 * 1. the real service process (`node --import tsx src/main.ts serve`) SIGKILLed at random points
 *    of a campaign and restarted, many times — the simulator lives in THIS process, so its record
 *    of every SMS a modem worked on survives the kills;
 * 2. the simulator dropping every AMI session and refusing logins for a while, mid-campaign;
 * 3. two instances (each with its own simulator and SIMs) on one database, and one of them
 *    restarting while both have messages in flight.
 *
 * Randomness is seeded: the seed is printed; `CHAOS_SEED=<n>` repeats a run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import { campaignCompliance } from '../../src/compliance/compliance-repo.js';
import { exclusionReasons } from '../../src/i18n/ru.js';
import { CampaignsService } from '../../src/campaigns/campaigns-service.js';
import { loadConfig } from '../../src/config.js';
import { finalStates, type MessageState } from '../../src/dispatcher/message-state.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { AmiSimulator, type SimSentSms } from '../../src/simulator/ami-simulator.js';
import { startHarness, testSettings, type Harness } from '../helpers/harness.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomInt(2 ** 31);
console.log(`chaos seed: ${seed} (repeat with CHAOS_SEED=${seed})`);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` returns something truthy; fails naming `what` after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs: number, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}

const RECOVERY_ERROR = /Служба перезапускалась во время отправки/;

/** Settings for all three tests: no pauses, window open all day, limits out of the way, shortest timeout. */
async function chaosSettings(knex: Knex): Promise<void> {
  await new SettingsRepo(knex).update(
    { ...testSettings, messageTimeoutSeconds: 10, dailyLimit: 100_000, monthlyLimit: 1_000_000 },
    new Date(),
  );
}

const phoneOf = (prefix: string, i: number) => `+7912${prefix}${String(i).padStart(7 - prefix.length, '0')}`;

/** Three UCS-2 parts (189–191 units): a modem works three times its per-part delay on each. */
const threePartTemplate =
  '{{Имя}}, здравствуйте! Ваш заказ собран и ждёт вас в пункте выдачи на Московской улице, 12. Пункт работает ежедневно с девяти утра до девяти вечера. Хранение бесплатно в течение пяти дней.';

/** A list of `n` recipients and a campaign over it; started unless `start` is false. */
async function campaignOf(knex: Knex, n: number, prefix: string, name: string, start = true, template = '{{Имя}}, здравствуйте!'): Promise<{ id: number; phones: string[] }> {
  const phones = Array.from({ length: n }, (_, i) => phoneOf(prefix, i));
  const now = new Date();
  const lists = new ListsRepo(knex);
  const listId = await lists.create(
    { name, fileName: `${name}.xlsx`, columns: ['Телефон', 'Имя'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    phones.map((phone, i) => ({ rowNumber: i + 2, phone, fields: { Телефон: phone, Имя: `Клиент ${i + 1}` } })),
    now,
  );
  const service = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: new SettingsRepo(knex), clock: { now: () => new Date(), sleep }, compliance: campaignCompliance(knex, exclusionReasons) });
  const { campaign } = await service.create({ name, listId, template, kind: 'service', createdBy: null });
  if (start) await service.act(campaign.id, 'start');
  return { id: campaign.id, phones };
}

interface MessageRow {
  id: number;
  phone: string;
  state: MessageState;
  error: string | null;
  imsi: string | null;
  instance_id: string | null;
  claimed_at: Date | null;
}

async function messagesOf(knex: Knex, campaignId: number): Promise<MessageRow[]> {
  const rows = await knex('messages')
    .where({ campaign_id: campaignId })
    .orderBy('id')
    .select('id', 'phone', 'state', 'error', 'imsi', 'instance_id', 'claimed_at');
  return rows.map((r: MessageRow) => ({ ...r, id: Number(r.id), claimed_at: r.claimed_at ? new Date(r.claimed_at) : null }));
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

/**
 * The core duplicate check on a simulator record: no number handed to a modem twice (whatever the
 * outcome), and every entry's payload names the message of that very number.
 */
function assertOncePerNumber(records: SimSentSms[], rows: MessageRow[], context: string): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const twice = [...countBy(records, (s) => s.number)].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], `${context}: numbers handed to a modem more than once`);
  for (const s of records) {
    const id = /^simcast-[a-z0-9]+-(\d+)$/.exec(s.payload)?.[1];
    assert.ok(id, `${context}: a record without our payload: ${JSON.stringify(s)}`);
    assert.equal(byId.get(Number(id))?.phone, s.number, `${context}: payload ${s.payload} belongs to another number`);
  }
}

// ------------------------------------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  output: string[];
  spawnedAt: number;
  /** Whether the service logged `web.listening` (only seen with LOG_LEVEL=info). */
  listening: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnService(env: Record<string, string>): Child {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.NODE_OPTIONS;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let tail = '';
  const child = { proc, output, spawnedAt: Date.now(), listening: false } as Child;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output.push(text);
    if (output.length > 50) output.shift();
    tail = (tail + text).slice(-8192);
    if (!child.listening && tail.includes('"event":"web.listening"')) child.listening = true;
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  child.exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return child;
}

const isAlive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

describe('chaos: the service process SIGKILLed and restarted, many times', () => {
  let testDb: TestDatabase | null = null;
  let simulator: AmiSimulator | null = null;
  const children: Child[] = [];

  after(async () => {
    for (const c of children) {
      if (isAlive(c)) {
        c.proc.kill('SIGKILL');
        await c.exited;
      }
    }
    await simulator?.close();
    await testDb?.drop();
  });

  test('no number twice, every message final, unknown only where a killed process had it in flight', async (t) => {
    const random = seededRandom(seed);
    t.diagnostic(`seed ${seed}`);
    testDb = await createTestDatabase();
    const knex = testDb.db.knex;
    const modems = [
      { device: 'dongle0', imsi: '250990000000011', imei: '359999000000011', delayPerPartMs: 30 + Math.floor(random() * 51) },
      { device: 'dongle1', imsi: '250990000000012', imei: '359999000000012', delayPerPartMs: 30 + Math.floor(random() * 51) },
      { device: 'dongle2', imsi: '250990000000013', imei: '359999000000013', delayPerPartMs: 30 + Math.floor(random() * 51) },
    ];
    simulator = await AmiSimulator.start({ modems, authFailDelayMs: 20 });
    const sim = simulator;
    await chaosSettings(knex);
    const recipients = 150;
    const campaign = await campaignOf(knex, recipients, '1', 'Хаос', true, threePartTemplate);
    t.diagnostic(`modem delays per part: ${modems.map((m) => m.delayPerPartMs).join(', ')} ms; 3 parts per SMS`);

    const env = {
      DATABASE_URL: testDb.url,
      AMI_HOST: '127.0.0.1',
      AMI_PORT: String(sim.port),
      AMI_USER: 'simcast',
      AMI_SECRET: 'simcast',
      PORT: '0',
      INSTANCE_ID: 'chaos-1',
      SESSION_SECRET: 'chaos-session-secret-0123456789',
      LOG_LEVEL: 'warn',
    };
    const waiting = async () =>
      Number((await knex('messages').where({ campaign_id: campaign.id, state: 'waiting' }).count<{ n: string }[]>('* as n'))[0]?.n);

    const plannedKills = 9;
    const lifetimes: Array<{ from: number; to: number }> = [];
    for (let i = 0; i < plannedKills; i++) {
      if ((await waiting()) < 6) break; // keep the last messages for the final, undisturbed run
      const sentBefore = sim.sent.length;
      const child = spawnService(env);
      children.push(child);
      await waitFor(
        `child ${i} to hand an SMS to a modem`,
        () => {
          if (!isAlive(child)) throw new Error(`child ${i} exited by itself:\n${child.output.join('')}`);
          return sim.sent.length > sentBefore;
        },
        20_000,
      );
      const killAfterMs = 100 + Math.floor(random() * 1401);
      await sleep(killAfterMs);
      assert.ok(isAlive(child), `child ${i} exited by itself:\n${child.output.join('')}`);
      child.proc.kill('SIGKILL');
      const { signal } = await child.exited;
      assert.equal(signal, 'SIGKILL');
      lifetimes.push({ from: child.spawnedAt, to: Date.now() });
      t.diagnostic(`kill ${i + 1}: ${killAfterMs} ms after it started sending; simulator record ${sim.sent.length}, waiting ${await waiting()}`);
    }
    assert.ok(lifetimes.length >= 6, `only ${lifetimes.length} kills landed before the campaign ran out`);

    // The last run: left alone until the campaign finishes, then stopped gracefully (SIGTERM once
    // it listens: before that the handler isn't installed and SIGTERM's default action applies).
    const last = spawnService({ ...env, LOG_LEVEL: 'info' });
    children.push(last);
    await waitFor(
      'the campaign to finish',
      async () => {
        if (!isAlive(last)) throw new Error(`the last child exited by itself:\n${last.output.join('')}`);
        const row = await knex('campaigns').where({ id: campaign.id }).first('status');
        return row?.status === 'finished';
      },
      40_000,
      100,
    );
    await waitFor('the last child to listen', () => last.listening, 20_000);
    last.proc.kill('SIGTERM');
    const exit = await Promise.race([last.exited, sleep(10_000).then(() => null)]);
    assert.ok(exit, `SIGTERM did not stop the service within 10 s:\n${last.output.join('')}`);
    assert.equal(exit.code, 0, `graceful stop exit code:\n${last.output.join('')}`);

    const rows = await messagesOf(knex, campaign.id);
    const states = countBy(rows, (r) => r.state);
    t.diagnostic(`kills ${lifetimes.length}; states ${JSON.stringify(Object.fromEntries(states))}; simulator record ${sim.sent.length}`);
    assert.equal(rows.length, recipients);
    const notFinal = rows.filter((r) => !finalStates.has(r.state));
    assert.deepEqual(notFinal.map((r) => [r.id, r.state]), [], 'every message is final');
    assert.equal([...states.values()].reduce((a, b) => a + b, 0), recipients, 'the states add up to the recipients');

    const records = sim.sent;
    assertOncePerNumber(records, rows, `seed ${seed}`);
    const recordsByNumber = new Map(records.map((s) => [s.number, s]));
    for (const r of rows) {
      const rec = recordsByNumber.get(r.phone);
      if (r.state === 'sent') {
        assert.equal(rec?.outcome, 'sent', `message ${r.id} is sent: the modem transmitted it`);
        assert.equal(rec.parts, 3);
      }
      if (r.state === 'failed' || r.state === 'skipped') assert.fail(`message ${r.id} is ${r.state}: ${r.error}`);
      if (r.state === 'unknown') {
        assert.match(r.error ?? '', RECOVERY_ERROR, `unknown ${r.id} comes from a restart, not a timeout`);
        assert.ok(r.instance_id === 'chaos-1' && r.claimed_at);
        const claimedAt = r.claimed_at.getTime();
        const owner = lifetimes.findIndex((l) => claimedAt >= l.from && claimedAt <= l.to);
        assert.ok(owner >= 0, `unknown ${r.id} was claimed at ${r.claimed_at.toISOString()}, outside any killed process's life`);
      }
    }
    // A killed process's life: from its spawn to its death (claimed_at is its own clock, the same machine's).
    const unknownOf = lifetimes.map((l) => rows.filter((r) => r.state === 'unknown' && r.claimed_at && r.claimed_at.getTime() >= l.from && r.claimed_at.getTime() <= l.to));
    const leftUnknown = unknownOf.map((u) => u.length);
    t.diagnostic(`unknown left by each killed process: ${leftUnknown.join(', ')}`);
    for (const [i, u] of unknownOf.entries()) {
      assert.ok(
        u.length <= modems.length,
        `killed process ${i} (${new Date(lifetimes[i]!.from).toISOString()}–${new Date(lifetimes[i]!.to).toISOString()}) left ${u.length} unknowns, more than one per modem: ` +
          JSON.stringify(u.map((r) => ({ id: r.id, claimedAt: r.claimed_at?.toISOString(), imsi: r.imsi, record: records.filter((s) => s.number === r.phone).map((s) => [s.device, s.outcome, s.at.toISOString()]) }))),
      );
    }
    assert.ok(leftUnknown.some((n) => n > 0), 'at least one kill landed while an SMS was in flight');
    // Everything the simulator worked on is accounted for: sent, or unknown after a kill.
    for (const s of records) {
      const row = rows.find((r) => r.phone === s.number);
      assert.ok(row && (row.state === 'sent' || row.state === 'unknown'), `${s.number} transmitted but ${row?.state}`);
    }
    assert.ok((states.get('sent') ?? 0) > 0);
  });
});

// ------------------------------------------------------------------------------------------------

describe('chaos: AMI sessions dropped and logins refused mid-campaign', () => {
  let h: Harness | null = null;
  after(async () => {
    await h?.close();
  });

  test('sending resumes by itself; lost acks and reports become unknown, never re-sent', async (t) => {
    h = await startHarness({ delayPerPartMs: 150, messageTimeoutSeconds: 10 });
    const { simulator: sim, service } = h;
    const knex = h.testDb.db.knex;
    await chaosSettings(knex);
    const recipients = 60;
    const campaign = await campaignOf(knex, recipients, '2', 'Обрывы', false);

    // Which messages are in flight right now, from the dispatcher's own events.
    const inFlight = new Set<number>();
    service.dispatcher.events.on('message', (e) => {
      if (e.state === 'sending') inFlight.add(e.id);
      else inFlight.delete(e.id);
    });
    const start = await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' });
    assert.equal(start.status, 200);

    const logins = () => sim.received.filter((a) => a.action.toLowerCase() === 'login').length;
    const drops: Array<{ at: number; lost: Set<number>; refusedMs: number }> = [];
    /**
     * Drops every session while both modems have an SMS in flight, logins refused for a while.
     * `swallowAcks`: chan_dongle queues the SMS but its ack never comes (lost in the drop);
     * otherwise the acks came and the reports (150 ms later) are lost.
     */
    const dropWhenBusy = async (refusedMs: number, swallowAcks: boolean) => {
      if (swallowAcks) {
        // Pause until nothing is in flight, so that both next sends are ones whose acks get lost.
        assert.equal((await h!.api(`/campaigns/${campaign.id}/pause`, { method: 'POST' })).status, 200);
        await waitFor('nothing in flight', () => inFlight.size === 0, 20_000, 2);
        sim.swallowSendAcks = true;
        assert.equal((await h!.api(`/campaigns/${campaign.id}/resume`, { method: 'POST' })).status, 200);
      }
      await waitFor('both modems busy', () => service.gateway.isConnected() && inFlight.size === 2, 20_000, 2);
      await sleep(30);
      const lost = new Set(inFlight);
      sim.refuseLoginsFor(refusedMs);
      sim.dropConnections();
      sim.swallowSendAcks = false;
      const at = Date.now();
      drops.push({ at, lost, refusedMs });
      await waitFor('the gateway to notice the drop', () => !service.gateway.isConnected(), 2000, 2);
      await waitFor('the gateway to reconnect by itself', () => service.gateway.isConnected(), 20_000, 10);
      t.diagnostic(
        `drop ${drops.length} (${swallowAcks ? 'acks' : 'reports'} lost): in flight ${[...lost].join(', ')}; logins refused for ${refusedMs} ms; reconnected after ${Date.now() - at} ms; ${logins()} logins so far`,
      );
      return lost;
    };

    await waitFor('a few SMS sent', () => sim.sent.length >= 6, 20_000);
    const loginsBefore = logins();
    const lost1 = await dropWhenBusy(1500, true);
    // An ack lost in a drop is `unknown` at once: the modems are free again, sending resumes.
    const recordsAfterDrop1 = sim.sent.length;
    await waitFor('sending to resume after drop 1', () => sim.sent.length >= recordsAfterDrop1 + 4, 20_000);
    const lost2 = await dropWhenBusy(3000, false);
    // Each refusal outlasted the first reconnect attempt after its drop: at least one refused login each.
    assert.ok(logins() - loginsBefore >= 4, `logins after the drops: ${logins() - loginsBefore}`);

    await waitFor(
      'the campaign to finish by itself',
      async () => (await knex('campaigns').where({ id: campaign.id }).first('status'))?.status === 'finished',
      40_000,
      100,
    );

    const rows = await messagesOf(knex, campaign.id);
    const states = countBy(rows, (r) => r.state);
    t.diagnostic(`states ${JSON.stringify(Object.fromEntries(states))}; simulator record ${sim.sent.length}`);
    assert.equal(rows.length, recipients);
    assert.deepEqual(rows.filter((r) => !finalStates.has(r.state)).map((r) => [r.id, r.state]), [], 'every message is final');
    assertOncePerNumber(sim.sent, rows, 'drops');

    const lostAny = new Set([...lost1, ...lost2]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of lostAny) {
      const r = byId.get(id)!;
      assert.ok(r.state === 'unknown' || r.state === 'sent', `message ${id}, in flight at a drop, is ${r.state}`);
      if (r.state === 'unknown') assert.match(r.error ?? '', /Нет ответа от модема|нет ответа от AMI/);
    }
    const unknown = rows.filter((r) => r.state === 'unknown');
    assert.ok(unknown.length > 0, 'a drop lost at least one ack or report');
    assert.deepEqual(unknown.filter((r) => !lostAny.has(r.id)).map((r) => [r.id, r.error]), [], 'unknown only for what a drop cut off');
    assert.deepEqual(rows.filter((r) => r.state !== 'sent' && r.state !== 'unknown').map((r) => [r.id, r.state, r.error]), []);
    for (const id of lost1) {
      const r = byId.get(id)!;
      // Its report may have beaten the drop (then it is `sent`); if not, it is unknown for the lost ack.
      if (r.state === 'unknown') assert.match(r.error ?? '', /нет ответа от AMI/, `message ${id}: its ack was lost`);
    }
    assert.ok(service.gateway.isConnected());
  });
});

// ------------------------------------------------------------------------------------------------

describe('chaos: two instances, each with its own PBX, on one database', () => {
  let testDb: TestDatabase | null = null;
  const simulators: AmiSimulator[] = [];
  const services: RunningService[] = [];

  after(async () => {
    for (const s of services) await s.close().catch(() => undefined);
    for (const s of simulators) await s.close();
    await testDb?.drop();
  });

  test('no double claims, each through its own SIMs; a restart turns only its own in-flight into unknown', async (t) => {
    testDb = await createTestDatabase();
    const knex = testDb.db.knex;
    await chaosSettings(knex);
    // Both PBXes name their modems dongle0/dongle1, as two real ones would; the SIMs differ.
    const imsis = {
      'pbx-a': ['250990000000101', '250990000000102'],
      'pbx-b': ['250990000000201', '250990000000202'],
    } as const;
    const simA = await AmiSimulator.start({
      modems: imsis['pbx-a'].map((imsi, i) => ({ device: `dongle${i}`, imsi, imei: `35999900000010${i}` })),
      delayPerPartMs: 20,
      authFailDelayMs: 20,
    });
    simulators.push(simA);
    const simB = await AmiSimulator.start({
      modems: imsis['pbx-b'].map((imsi, i) => ({ device: `dongle${i}`, imsi, imei: `35999900000020${i}` })),
      delayPerPartMs: 20,
      authFailDelayMs: 20,
    });
    simulators.push(simB);

    const start = async (instanceId: 'pbx-a' | 'pbx-b', sim: AmiSimulator) => {
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: testDb!.url,
        AMI_HOST: '127.0.0.1',
        AMI_PORT: String(sim.port),
        AMI_USER: 'simcast',
        AMI_SECRET: 'simcast',
        INSTANCE_ID: instanceId,
        SESSION_SECRET: 'test-session-secret-0123456789',
      });
      // Each instance opens its own pool (close() closes it).
      const service = await startService(config, log.child({ instance: instanceId }));
      services.push(service);
      return service;
    };
    let a = await start('pbx-a', simA);
    await start('pbx-b', simB);
    const finished = (id: number) => async () => (await knex('campaigns').where({ id }).first('status'))?.status === 'finished';

    // Part 1: one campaign of 200, both instances sending until it is done.
    const recipients = 200;
    const c1 = await campaignOf(knex, recipients, '3', 'Две АТС');
    await waitFor('campaign 1 to finish', finished(c1.id), 40_000, 50);
    const rows1 = await messagesOf(knex, c1.id);
    const recA1 = simA.sent.filter((s) => s.payload && rows1.some((r) => s.payload.endsWith(`-${r.id}`)));
    const recB1 = simB.sent.filter((s) => s.payload && rows1.some((r) => s.payload.endsWith(`-${r.id}`)));
    t.diagnostic(`campaign 1: pbx-a ${recA1.length}, pbx-b ${recB1.length}; states ${JSON.stringify(Object.fromEntries(countBy(rows1, (r) => r.state)))}`);
    assert.equal(rows1.length, recipients);
    assert.deepEqual(rows1.filter((r) => r.state !== 'sent').map((r) => [r.id, r.state, r.error]), [], 'every message sent');
    assertOncePerNumber([...recA1, ...recB1], rows1, 'two instances');
    assert.equal(recA1.length + recB1.length, recipients, 'the two records add up to the recipients');
    const numbersA = new Set(recA1.map((s) => s.number));
    assert.deepEqual(recB1.filter((s) => numbersA.has(s.number)), [], 'no number in both records');
    assert.ok(recA1.length >= recipients * 0.2 && recB1.length >= recipients * 0.2, `both took part: ${recA1.length} / ${recB1.length}`);
    for (const r of rows1) {
      assert.ok(r.instance_id === 'pbx-a' || r.instance_id === 'pbx-b', `message ${r.id} instance ${r.instance_id}`);
      assert.ok((imsis[r.instance_id] as readonly string[]).includes(r.imsi ?? ''), `message ${r.id} of ${r.instance_id} went through ${r.imsi}`);
      const record = (r.instance_id === 'pbx-a' ? simA : simB).sent.filter((s) => s.payload.endsWith(`-${r.id}`));
      assert.equal(record.length, 1, `message ${r.id} is in its own instance's simulator record`);
    }
    const sims = await knex('sims').select('imsi', 'instance_id');
    for (const s of sims) assert.ok((imsis[s.instance_id as 'pbx-a' | 'pbx-b'] as readonly string[]).includes(s.imsi), `SIM ${s.imsi} claimed by ${s.instance_id}`);

    // Part 2: A's modems hang (no report ever), B's are slow; both have messages in flight when A restarts.
    for (const d of ['dongle0', 'dongle1']) {
      simA.setMode(d, 'hang');
      simB.setDelay(d, 1500);
    }
    const c2 = await campaignOf(knex, 24, '4', 'Перезапуск А');
    const inFlightOf = async (instance: string) =>
      (await knex('messages').where({ campaign_id: c2.id, state: 'sending', instance_id: instance }).select('id')).map((r: { id: unknown }) => Number(r.id));
    const hungOnA = await waitFor(
      'A to hand both hung modems an SMS and B to have one in flight',
      async () => {
        const ids = await inFlightOf('pbx-a');
        return simA.sent.filter((s) => s.outcome === 'hung').length === 2 && ids.length === 2 && (await inFlightOf('pbx-b')).length > 0 ? ids : null;
      },
      10_000,
    );
    const bBefore = await inFlightOf('pbx-b');
    t.diagnostic(`in flight at A's stop: pbx-a ${hungOnA.join(', ')}; pbx-b ${bBefore.join(', ')}`);
    await a.close();
    services.splice(services.indexOf(a), 1);
    assert.deepEqual((await inFlightOf('pbx-a')).sort(), [...hungOnA].sort(), "A's stop leaves its in-flight messages sending");
    // The PBX side of A resets its modems (their queues flushed silently), then A comes back.
    for (const d of ['dongle0', 'dongle1']) {
      simA.setMode(d, 'disconnected');
      simA.setMode(d, 'ok');
    }
    a = await start('pbx-a', simA);
    await waitFor("A's recovery", async () => (await inFlightOf('pbx-a')).every((id) => !hungOnA.includes(id)), 10_000);
    const afterRecovery = await messagesOf(knex, c2.id);
    for (const id of hungOnA) {
      const r = afterRecovery.find((m) => m.id === id)!;
      assert.equal(r.state, 'unknown', `A's in-flight ${id}`);
      assert.match(r.error ?? '', RECOVERY_ERROR);
    }
    for (const id of bBefore) {
      const r = afterRecovery.find((m) => m.id === id)!;
      assert.ok(r.state === 'sending' || r.state === 'sent', `B's in-flight ${id} after A's restart is ${r.state}`);
    }
    for (const d of ['dongle0', 'dongle1']) simB.setDelay(d, 20);

    await waitFor('campaign 2 to finish', finished(c2.id), 30_000, 50);
    const rows2 = await messagesOf(knex, c2.id);
    t.diagnostic(`campaign 2 states ${JSON.stringify(Object.fromEntries(countBy(rows2, (r) => r.state)))}`);
    const records2 = [...simA.sent, ...simB.sent].filter((s) => rows2.some((r) => s.payload.endsWith(`-${r.id}`)));
    assertOncePerNumber(records2, rows2, 'restart of A');
    assert.deepEqual(rows2.filter((r) => !finalStates.has(r.state)).map((r) => r.id), []);
    assert.deepEqual(
      rows2.filter((r) => r.state === 'unknown').map((r) => r.id).sort(),
      [...hungOnA].sort(),
      "unknown: exactly A's messages in flight at its restart",
    );
    for (const id of bBefore) assert.equal(rows2.find((r) => r.id === id)?.state, 'sent', `B's in-flight ${id}`);
    assert.deepEqual(rows2.filter((r) => r.instance_id === 'pbx-b' && r.state !== 'sent').map((r) => [r.id, r.state]), []);
    for (const r of rows2) {
      if (r.instance_id) assert.ok((imsis[r.instance_id as 'pbx-a' | 'pbx-b'] as readonly string[]).includes(r.imsi ?? ''));
    }
  });
});
