/**
 * `npm run bench` — how fast simcast sends, and what it costs, against its own ceiling.
 *
 * 1. END TO END: one campaign of BENCH_MESSAGES (default 2000) messages over BENCH_MODEMS (default 4)
 *    simulated modems that answer at once (delayPerPartMs 0), pause 0. The real Dispatcher +
 *    DongleGateway (asterisk-manager) + DispatchRepo on PostgreSQL, driven by `dispatcher.run()`;
 *    timed from the campaign's «Старт» to the last message `sent` (counted from the dispatcher's
 *    `message` events, no polling).
 * 2. CEILING: a fresh simulator with the same modems and a minimal AMI client over node:net
 *    (Login, then per modem one DongleSendSMS in flight, the next on its DongleReport).
 *    2b. FLOOR: the same loop plus one committed UPDATE of the message's state before each send
 *    and one after its report — the least any dispatcher that writes a state before its action
 *    can do per message without batching messages together (no claim, limits or facts).
 *    2c. BATCHED FLOOR: the same writes, the reports of one event-loop turn and their modems' next
 *    messages in one transaction. 2d. The same, each modem's next message claimed while its SMS is
 *    in flight: what a redesign could reach at best (issue #10's 50 % of the raw loop).
 * 3. REALISTIC: 16 modems, each needing 5 s per SMS, for ~30 s: process CPU per message and RSS.
 *    3b. The same against the BUILT service in a child process (CPU from /proc): its first
 *    BENCH_BUILT_SENDING_WARMUP_SECONDS (default 60) of sending after start-up, then ~30 s more.
 *    3c. The floor at the realistic pace: the raw loop + its 2 committed writes per SMS against them.
 *    3d. REALISTIC WITH PAUSES: the same modems with the default pause between two SMS of a SIM
 *    (20–40 s against 5 s per SMS), scaled by 1/4 (1.25 s per SMS, pauses 5–10 s).
 * 0. IDLE SERVICE (first): the whole service (startService: web, dispatcher, AMI to a simulator
 *    child) with nothing to do for BENCH_IDLE_SECONDS (default 20): CPU per second.
 * Both cost figures are printed beside the figures of today (issue #8) and the targets.
 *
 * The simulator runs in a child process (bench/sim-child.ts) so that process.cpuUsage() here is
 * the sender's CPU only; PostgreSQL is a separate server, whose CPU (all its processes, from /proc,
 * when it runs on this machine) is printed per message beside ours: several PBXes may share it.
 * Logs go at `info` (the production default, BENCH_LOG_LEVEL to change) to /dev/null, so pino's
 * cost is counted.
 * Env: BENCH_MESSAGES, BENCH_MODEMS, BENCH_REALISTIC_SECONDS (default 30), BENCH_IDLE_SECONDS, BENCH_LOG_LEVEL,
 * BENCH_CPU_PROF (a folder: V8 CPU profiles of the built service go there), BENCH_NODE_FLAGS (more node flags for it),
 * BENCH_WINDOW_SECONDS (print the built service's cost per such window), BENCH_PG_LOG=1 (PostgreSQL logs the built
 * service's every statement: log_statement=all in its session), BENCH_ONLY_BUILT=1 (only the built
 * service's idle and realistic figures: a quick before/after on a busy machine), BENCH_ONLY_E2E=1 (only the
 * end to end, the ceiling and the floor), BENCH_ONLY_PAUSED=1 (only 3d), BENCH_PAUSED_SECONDS (default 30).
 */
import { fork, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import pg from 'pg';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CampaignsRepo } from '../src/campaigns/campaigns-repo.js';
import { campaignCompliance } from '../src/compliance/compliance-repo.js';
import { exclusionReasons } from '../src/i18n/ru.js';
import { CampaignsService } from '../src/campaigns/campaigns-service.js';
import { systemClock } from '../src/clock.js';
import type { Knex } from '../src/db/knex.js';
import { DispatchRepo } from '../src/dispatcher/dispatch-repo.js';
import { PhoneKeys } from '../src/compliance/phone-keys.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import type { MessageState } from '../src/dispatcher/message-state.js';
import { ListsRepo } from '../src/lists/lists-repo.js';
import { createLogger, type Logger } from '../src/logger.js';
import { DongleGateway } from '../src/modems/ami/dongle-gateway.js';
import type { Settings } from '../src/settings/settings.js';
import { SettingsRepo } from '../src/settings/settings-repo.js';
import { SimsRepo } from '../src/sims/sims-repo.js';
import { loadConfig } from '../src/config.js';
import { startService } from '../src/service.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/test-db.js';
import type { SimChildConfig, SimChildStats } from './sim-child.js';

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`${name} must be an integer ${min}..${max}, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

const MESSAGES = intEnv('BENCH_MESSAGES', 2000, 1, 100_000);
const MODEMS = intEnv('BENCH_MODEMS', 4, 1, 64);
const REAL_MODEMS = 16;
const REAL_DELAY_MS = 5000;
const REAL_SECONDS = intEnv('BENCH_REALISTIC_SECONDS', 30, 5, 600);
/** Hard cap per phase: a stuck phase is reported, not waited on forever. */
const PHASE_TIMEOUT_MS = 45_000;
const IDLE_MS = 3000;
const DEPTH = intEnv('BENCH_DEPTH', 100_000, 1000, 500_000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const IDLE_SERVICE_SECONDS = intEnv('BENCH_IDLE_SECONDS', 40, 3, 600);
/** The whole service idle in this process (under tsx): a side figure, kept short. */
const IN_PROCESS_IDLE_SECONDS = Math.min(20, IDLE_SERVICE_SECONDS);
/** The built service's first half minute includes V8's post-start collections: not idle cost. */
const BUILT_WARMUP_SECONDS = intEnv('BENCH_BUILT_WARMUP_SECONDS', 30, 0, 600);
const BUILT_REAL_WARMUP_SECONDS = intEnv('BENCH_BUILT_REAL_WARMUP_SECONDS', 10, 0, 600);
const BUILT_SENDING_WARMUP_SECONDS = intEnv('BENCH_BUILT_SENDING_WARMUP_SECONDS', 60, 0, 600);

/** CPU ms a process has used, from /proc (Linux; the target platform). */
function procCpuMs(pid: number): number {
  const { userMs, kernelMs } = procCpuSplit(pid);
  return userMs + kernelMs;
}
/**
 * The fields of a /proc stat line from the third (state) on, times in ms (USER_HZ is 100):
 * ppid, utime, stime, and the reaped children's cutime + cstime.
 */
function statFields(stat: string): { ppid: number; userMs: number; kernelMs: number; childrenMs: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (field: string | undefined) => (Number(field) * 1000) / 100;
  return { ppid: Number(f[1]), userMs: ms(f[11]), kernelMs: ms(f[12]), childrenMs: ms(f[13]) + ms(f[14]) };
}
/** utime and stime of a /proc stat line, in ms. */
function statTimes(stat: string): { userMs: number; kernelMs: number } {
  const { userMs, kernelMs } = statFields(stat);
  return { userMs, kernelMs };
}
/**
 * CPU ms the whole PostgreSQL server has used (postmaster, its live children — backends,
 * WAL writer, checkpointer, autovacuum — and the children it has reaped, in its cutime/cstime),
 * from /proc: what the database pays for what we send. Null when the server is not on this
 * machine or /proc does not show it. `postmaster` from `postmasterPid`.
 */
function postgresCpuMs(postmaster: number | null): number | null {
  if (postmaster === null) return null;
  try {
    const main = statFields(readFileSync(`/proc/${postmaster}/stat`, 'utf8'));
    let total = main.userMs + main.kernelMs + main.childrenMs;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let child: ReturnType<typeof statFields>;
      try {
        child = statFields(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      } catch {
        continue; // gone meanwhile: its time is in the postmaster's cutime now
      }
      if (child.ppid === postmaster) total += child.userMs + child.kernelMs;
    }
    return total;
  } catch {
    return null;
  }
}

/** The PostgreSQL server's main process, when it runs on this machine (a backend's parent); set by main. */
let postmaster: number | null = null;

/** The PostgreSQL server's CPU since `start` (a `postgresCpuMs` reading), or null when not measured. */
function postgresCpuSince(start: number | null): number | null {
  const now = postgresCpuMs(postmaster);
  return start === null || now === null ? null : now - start;
}

/** The PostgreSQL server's main process, if it runs on this machine (a backend's parent). */
async function postmasterPid(knex: Knex): Promise<number | null> {
  const backend = ((await knex.raw('select pg_backend_pid() as pid')).rows[0] as { pid: number }).pid;
  try {
    const ppid = /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${backend}/status`, 'utf8'))?.[1];
    return ppid ? Number(ppid) : null;
  } catch {
    return null;
  }
}

/**
 * The same, split: user (JavaScript, V8, libuv) and kernel (syscalls: sockets, epoll, memory);
 * and by thread: the main thread (JavaScript, I/O) against the rest (V8's helpers: concurrent GC
 * marking and compilation; libuv's pool).
 */
function procCpuSplit(pid: number): { userMs: number; kernelMs: number; mainMs: number } {
  const main = statTimes(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
  return { ...statTimes(readFileSync(`/proc/${pid}/stat`, 'utf8')), mainMs: main.userMs + main.kernelMs };
}

function describeIdle(idle: BuiltIdle): string {
  return `${idle.msPerS.toFixed(2)} ms CPU per s (per 10 s: ${idle.windows.map((w) => w.toFixed(1)).join(', ')})`;
}

interface BuiltIdle {
  /** CPU per second over the whole measurement. */
  msPerS: number;
  /** The same per 10-s window: a one-off (V8's memory reducer collecting after start-up) shows as one high window. */
  windows: number[];
}

/**
 * What a PBX runs: the BUILT service (`node dist/main.js serve`, no tsx) against the same database
 * and simulator, idle; null when there is no build (`npm run build` first).
 */
async function builtServiceIdle(databaseUrl: string, amiPort: number): Promise<BuiltIdle | null> {
  const child = spawnBuilt(databaseUrl, amiPort, 'bench-built', 'warn');
  if (!child) return null;
  try {
    await new Promise((resolve) => setTimeout(resolve, BUILT_WARMUP_SECONDS * 1000));
    const t0 = process.hrtime.bigint();
    const cpu0 = procCpuMs(child.pid!);
    const windows: number[] = [];
    for (let left = IDLE_SERVICE_SECONDS * 1000; left > 0; left -= 10_000) {
      const w0 = process.hrtime.bigint();
      const c0 = procCpuMs(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, left)));
      windows.push(((procCpuMs(child.pid!) - c0) / ms(w0)) * 1000);
    }
    return { msPerS: ((procCpuMs(child.pid!) - cpu0) / ms(t0)) * 1000, windows };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
/** The built service as a PBX runs it (`node dist/main.js serve`), in a child process: its CPU comes from /proc. */
function spawnBuilt(databaseUrl: string, amiPort: number, instanceId: string, logLevel: string) {
  const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  if (!existsSync(entry) || !existsSync('/proc/self/stat')) return null;
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the built service (where its CPU goes), written on exit.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_NODE_FLAGS: more node flags for the built service (e.g. --trace-gc), space-separated.
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...unitNodeFlags(), ...flags, ...profile, entry, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: logLevel, PORT: '0', DATABASE_URL: databaseUrl,
      ...(process.env.BENCH_PG_LOG ? { PGOPTIONS: '-c log_statement=all' } : {}), AMI_HOST: '127.0.0.1', AMI_PORT: String(amiPort), AMI_USER: 'simcast', AMI_SECRET: 'simcast',
      SESSION_SECRET: 'bench-session-secret-0123456789', INSTANCE_ID: instanceId,
    },
    // stdout (pino's JSON) goes to /dev/null: its cost is counted, as under journald.
    // BENCH_LOG_FILE=<path>: to that file instead, to see what the service logs per message.
    stdio: ['ignore', process.env.BENCH_LOG_FILE ? openSync(process.env.BENCH_LOG_FILE, 'w') : 'ignore', 'inherit'],
  });
}

/**
 * The node flags the systemd unit starts the service with (its ExecStart between node and the
 * entry), so that the bench measures the service as a PBX runs it.
 */
function unitNodeFlags(): string[] {
  const unit = readFileSync(fileURLToPath(new URL('../asterisk/simcast.service', import.meta.url)), 'utf8');
  const exec = /^ExecStart=\S+\s+(.*?)\s*\S*dist\/main\.js/m.exec(unit);
  return exec?.[1] ? exec[1].split(/\s+/).filter(Boolean) : [];
}

/** What the 16 modems send during the built service's sending warm-up (at most). */
function builtWarmupMessages(): number {
  return REAL_MODEMS * Math.ceil((BUILT_SENDING_WARMUP_SECONDS * 1000) / REAL_DELAY_MS + 2);
}

interface CpuWindow {
  sent: number;
  wallMs: number;
  cpuMs: number;
  userMs: number;
  kernelMs: number;
  /** The main thread's share (the rest: V8's helper threads). */
  mainMs: number;
}

interface BuiltRealistic extends CpuWindow {
  /** The first BUILT_SENDING_WARMUP_SECONDS of sending after start-up: V8 still compiling the hot path. */
  firstMinute: CpuWindow;
  peakRssMb: number;
}

/**
 * REALISTIC against the BUILT service: the same 16 slow modems, the campaign started from here
 * (the service learns of it from the database, as when another instance or the CLI starts one),
 * sent messages counted by polling the database from this process; the service's CPU from /proc.
 *
 * Two windows: the first BUILT_SENDING_WARMUP_SECONDS of sending after start-up (V8 interprets
 * the hot path until it has run often enough to be compiled: at 3 SMS per second that takes a
 * minute), then `target` messages more — what a PBX that has been up for a while pays per SMS, and
 * what the issue's "today" figure measured (the in-process realistic phase ran after 2 000 sends).
 */
async function builtServiceRealistic(
  knex: Knex,
  databaseUrl: string,
  campaigns: CampaignsService,
  campaignId: number,
  target: number,
  timeoutMs: number,
): Promise<BuiltRealistic | null> {
  const sim = await startSimulator({ modems: REAL_MODEMS, delayPerPartMs: REAL_DELAY_MS });
  const child = spawnBuilt(databaseUrl, sim.port, 'bench-built-real', LOG_LEVEL);
  if (!child) {
    await sim.close();
    return null;
  }
  const exited = once(child, 'exit');
  const sentSoFar = async () =>
    Number((await knex('messages').where({ campaign_id: campaignId, state: 'sent' }).count({ n: '*' }).first())?.n ?? 0);
  const mark = async () => ({ at: process.hrtime.bigint(), sent: await sentSoFar(), cpu: procCpuSplit(child.pid!) });
  const between = (a: Awaited<ReturnType<typeof mark>>, b: Awaited<ReturnType<typeof mark>>): CpuWindow => {
    const userMs = b.cpu.userMs - a.cpu.userMs;
    const kernelMs = b.cpu.kernelMs - a.cpu.kernelMs;
    return { sent: b.sent - a.sent, wallMs: Number(b.at - a.at) / 1e6, cpuMs: userMs + kernelMs, userMs, kernelMs, mainMs: b.cpu.mainMs - a.cpu.mainMs };
  };
  try {
    // Start-up (migrations checked, modems listed, V8's first collections) is not per-message cost.
    const ready = Date.now() + 20_000;
    while (Date.now() < ready) {
      const seen = await knex('sims').where({ instance_id: 'bench-built-real' }).count({ n: '*' }).first();
      if (Number(seen?.n) >= REAL_MODEMS) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, BUILT_REAL_WARMUP_SECONDS * 1000));
    const m0 = await mark();
    await campaigns.act(campaignId, 'start');
    await new Promise((resolve) => setTimeout(resolve, BUILT_SENDING_WARMUP_SECONDS * 1000));
    const m1 = await mark();
    // BENCH_WINDOW_SECONDS: also print the cost of each such window (does it still fall?).
    const windowMs = intEnv('BENCH_WINDOW_SECONDS', 0, 0, 600) * 1000;
    let window = m1;
    let now = m1;
    while (now.sent - m1.sent < target && Number(now.at - m1.at) / 1e6 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      now = await mark();
      if (windowMs > 0 && Number(now.at - window.at) / 1e6 >= windowMs) {
        const w = between(window, now);
        process.stdout.write(`   window: ${w.sent} sent in ${(w.wallMs / 1000).toFixed(0)} s, ${(w.cpuMs / Math.max(1, w.sent)).toFixed(2)} ms CPU per message\n`);
        window = now;
      }
    }
    // Peak resident memory of the service (VmHWM): what a tuning of the heap costs in memory.
    const peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    return { ...between(m1, now), firstMinute: between(m0, m1), peakRssMb };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await sim.close();
  }
}

/**
 * The figures before the per-message cuts (README of 1 December 2026: idle built service,
 * realistic in-process under tsx, end to end 105 of 2292 msg/s) and the targets of issues #8/#10,
 * printed beside this run's. The same machine measured the built service's realistic cost before
 * the cuts at 23–27 ms per message while other work loaded both cores.
 */
const TODAY = { idleCpuMsPerS: '1.8–3', realisticCpuMsPerMsg: 12.3, statementsPerMsg: 18.7, percentOfCeiling: 4.6 };
const TARGET = { idleCpuMsPerS: 2, realisticCpuMsPerMsg: 5, statementsPerMsg: 8, percentOfCeiling: 50 };

/**
 * No pauses, the window open all day, limits far above what the bench sends: the bench measures
 * the machinery, not the pacing policy. New SIMs take these defaults when first seen.
 */
const benchSettings: Partial<Settings> = {
  sendPauseSeconds: 0,
  sendPauseMaxSeconds: 0,
  window: { from: '00:00', to: '00:00' },
  dailyLimit: 100_000,
  monthlyLimit: 1_000_000,
  messageTimeoutSeconds: 90,
};

// ------------------------------------------------------------------------------- helpers

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};
/** A full GC (exposed at runtime, so plain `npx tsx bench/dispatch.ts` works). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Whole-machine CPU busy share since `since` (percent of all cores), from os.cpus() tick counters. */
function machineCpu(): { busy: number; total: number };
function machineCpu(since: { busy: number; total: number }): number;
function machineCpu(since?: { busy: number; total: number }): { busy: number; total: number } | number {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  if (!since) return { busy, total };
  return total === since.total ? 0 : ((busy - since.busy) / (total - since.total)) * 100;
}
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Rejects after `timeoutMs` unless `promise` settles first; the timer never outlives it. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface SimChild {
  port: number;
  stats(): Promise<SimChildStats>;
  close(): Promise<void>;
}

/** A fresh simulator in a child process (see bench/sim-child.ts). */
async function startSimulator(config: SimChildConfig): Promise<SimChild> {
  const child = fork(fileURLToPath(new URL('./sim-child.ts', import.meta.url)), [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => {
        child.off('message', onMessage);
        reject(new Error(`simulator child exited (${code}) before "${type}"`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await within(next('ready'), 20_000, 'simulator start');
  return {
    port: ready.port as number,
    async stats() {
      const reply = next('stats');
      child.send({ type: 'stats' });
      return (await within(reply, 5000, 'simulator stats')) as unknown as SimChildStats;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'close' });
      try {
        await within(exited, 5000, 'simulator close');
      } catch {
        child.kill('SIGKILL'); // only our own child, by its handle
        await exited;
      }
    },
  };
}

/** A list of `n` recipients and a draft campaign over it; returns the campaign and its sendable count. */
async function seedCampaign(knex: Knex, n: number, name: string): Promise<{ campaignId: number; sendable: number; campaigns: CampaignsService }> {
  const lists = new ListsRepo(knex);
  const now = systemClock.now();
  const listId = await lists.create(
    { name, fileName: `${name}.xlsx`, columns: ['Телефон', 'Имя', 'Заказ', 'Сумма'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    Array.from({ length: n }, (_, i) => {
      const phone = `+7912${String(i).padStart(7, '0')}`;
      return { rowNumber: i + 2, phone, fields: { Телефон: phone, Имя: `Клиент ${i + 1}`, Заказ: `A-${100000 + i}`, Сумма: `${1500 + (i % 700)},50` } };
    }),
    now,
  );
  const campaigns = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: new SettingsRepo(knex), clock: systemClock, compliance: campaignCompliance(knex, exclusionReasons) });
  const { campaign, summary } = await campaigns.create({
    name,
    listId,
    template: '{{Имя}}, ваш заказ №{{Заказ}} на {{Сумма}} ₽ готов',
    kind: 'service',
    createdBy: null,
  });
  return { campaignId: campaign.id, sendable: summary.sendable, campaigns };
}

interface RunningDispatch {
  dispatcher: Dispatcher;
  gateway: DongleGateway;
  stop(): Promise<void>;
}

/** The production wiring (as in src/service.ts): gateway connected, dispatcher loop running, modems listed. */
async function startDispatch(knex: Knex, port: number, log: Logger, instanceId: string): Promise<RunningDispatch> {
  const gateway = new DongleGateway({ host: '127.0.0.1', port, username: 'simcast', secret: 'simcast', log: log.child({ component: 'ami' }) });
  if (!(await gateway.start())) throw new Error(`gateway could not connect: ${gateway.lastError}`);
  const settings = new SettingsRepo(knex);
  // As the service does: the phone-key secret loaded once, not read inside every claim.
  const phoneKeys = new PhoneKeys();
  await phoneKeys.load(knex);
  const dispatcher = new Dispatcher({
    repo: new DispatchRepo(knex, instanceId, phoneKeys),
    sims: new SimsRepo(knex),
    gateway,
    clock: systemClock,
    log,
    settings: () => settings.get(),
  });
  const abort = new AbortController();
  const firstTick = once(dispatcher.events, 'tick');
  const loop = dispatcher.run(abort.signal);
  await within(firstTick, 10_000, 'first dispatcher tick');
  return {
    dispatcher,
    gateway,
    async stop() {
      abort.abort();
      await loop;
      await gateway.close();
    },
  };
}

interface CampaignRun {
  /** campaign start → last message `sent` (or the stop condition), ms. */
  wallMs: number;
  /** campaign start → `campaign-finished`, ms (null if not awaited / not reached). */
  finishedMs: number | null;
  cpuMs: number;
  /** The PostgreSQL server's CPU meanwhile (null: not on this machine). */
  pgCpuMs: number | null;
  counts: Partial<Record<MessageState, number>>;
  queries: number;
  /** Longest time between two consecutive `sent` events. */
  maxGapMs: number;
  /** SQL text (first 70 chars) → count and summed latency, slowest first. */
  sql: Array<[string, { n: number; ms: number }]>;
  timedOut: boolean;
}

/** A statement's text as the bench prints it (first 70 characters, spaces folded), computed once per text: the bench's own CPU counts in the sender's figure. */
const statementKeys = new Map<string, string>();
function statementKey(sql: string): string {
  let key = statementKeys.get(sql);
  if (key === undefined) {
    key = sql.replace(/\s+/g, ' ').slice(0, 70);
    statementKeys.set(sql, key);
  }
  return key;
}

/**
 * Starts the campaign and resolves when `stopAfterSent` messages are `sent` (or failed/unknown
 * make that impossible), from the dispatcher's events; optionally also awaits campaign-finished.
 */
async function runCampaign(
  knex: Knex,
  running: RunningDispatch,
  campaigns: CampaignsService,
  campaignId: number,
  stopAfterSent: number,
  opts: { awaitFinished: boolean; timeoutMs: number },
): Promise<CampaignRun> {
  const { dispatcher } = running;
  campaigns.onChange = () => dispatcher.notify();
  const counts: Partial<Record<MessageState, number>> = {};
  let settled = 0;
  let queries = 0;
  // Per-statement latency as the client sees it (pool wait + round trip + server time), by SQL text.
  const startedAt = new Map<string, bigint>();
  const sql = new Map<string, { n: number; ms: number }>();
  const onQuery = (q: { __knexQueryUid?: string }) => {
    queries++;
    if (q.__knexQueryUid) startedAt.set(q.__knexQueryUid, process.hrtime.bigint());
  };
  const onResponse = (_r: unknown, q: { __knexQueryUid?: string; sql?: string }) => {
    const t = q.__knexQueryUid ? startedAt.get(q.__knexQueryUid) : undefined;
    if (t === undefined || !q.__knexQueryUid) return;
    startedAt.delete(q.__knexQueryUid);
    const key = statementKey(q.sql ?? '?');
    const entry = sql.get(key) ?? { n: 0, ms: 0 };
    entry.n++;
    entry.ms += Number(process.hrtime.bigint() - t) / 1e6;
    sql.set(key, entry);
  };
  knex.on('query', onQuery);
  knex.on('query-response', onResponse);

  let doneAt = 0n;
  let lastSentAt = 0n;
  let maxGapMs = 0;
  let finishedAt: bigint | null = null;
  let onMessage: (e: { campaignId: number | null; state: MessageState }) => void = () => {};
  const enough = new Promise<void>((resolve) => {
    onMessage = (e) => {
      if (e.campaignId !== campaignId) return;
      counts[e.state] = (counts[e.state] ?? 0) + 1;
      if (e.state === 'sent') {
        const now = process.hrtime.bigint();
        if (lastSentAt !== 0n) maxGapMs = Math.max(maxGapMs, Number(now - lastSentAt) / 1e6);
        lastSentAt = now;
      }
      if (e.state === 'sent' || e.state === 'failed' || e.state === 'unknown') settled++;
      if (doneAt === 0n && ((counts.sent ?? 0) >= stopAfterSent || settled >= stopAfterSent)) {
        doneAt = process.hrtime.bigint();
        resolve();
      }
    };
    dispatcher.events.on('message', onMessage);
  });
  let onFinished: (e: { campaignId: number }) => void = () => {};
  const finished = new Promise<void>((resolve) => {
    onFinished = (e) => {
      if (e.campaignId !== campaignId) return;
      finishedAt = process.hrtime.bigint();
      resolve();
    };
    dispatcher.events.on('campaign-finished', onFinished);
  });

  const cpu0 = process.cpuUsage();
  const pgCpu0 = postgresCpuMs(postmaster);
  const t0 = process.hrtime.bigint();
  await campaigns.act(campaignId, 'start');
  let timedOut = false;
  try {
    await within(enough, opts.timeoutMs, 'campaign');
    if (opts.awaitFinished) await within(finished, 10_000, 'campaign-finished');
  } catch (error) {
    timedOut = true;
    process.stderr.write(`  ! ${(error as Error).message}\n`);
  }
  const cpuMs = cpuMsSince(cpu0);
  const pgCpuMs = postgresCpuSince(pgCpu0);
  const end = doneAt === 0n ? process.hrtime.bigint() : doneAt;
  dispatcher.events.off('message', onMessage);
  dispatcher.events.off('campaign-finished', onFinished);
  knex.off('query', onQuery);
  knex.off('query-response', onResponse);
  return {
    wallMs: Number(end - t0) / 1e6,
    finishedMs: finishedAt === null ? null : Number((finishedAt as bigint) - t0) / 1e6,
    cpuMs,
    pgCpuMs,
    counts,
    queries,
    maxGapMs,
    sql: [...sql.entries()].sort((a, b) => b[1].ms - a[1].ms),
    timedOut,
  };
}

async function dbCounts(knex: Knex, campaignId: number): Promise<Record<string, number>> {
  const rows: Array<{ state: string; n: number }> = await knex('messages').where({ campaign_id: campaignId }).groupBy('state').select('state').count({ n: '*' });
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

// ------------------------------------------------------------------------------- the raw AMI ceiling

interface RawResult {
  wallMs: number;
  cpuMs: number;
  /** The PostgreSQL server's CPU meanwhile (null: not on this machine). */
  pgCpuMs: number | null;
  reports: number;
  errors: number;
}

/**
 * The least an AMI client can do: Login, then for each modem one DongleSendSMS in flight, the
 * next one written when that modem's DongleReport arrives. Parses only `Response`, `Event`,
 * `Device`, `ActionID`, `Payload`.
 *
 * With `durable` (a PostgreSQL pool): also the least a dispatcher that keeps our guarantees must
 * do, and nothing more (no claim, no limits, no facts) — a committed write of `sending` before
 * the action and one of `sent` after its report, single-row UPDATEs by primary key:
 * - `per-message`: each on its own round trip. The floor of the present design's throughput.
 * - `batched`: the reports that arrived in one turn of the event loop and their modems' next
 *   messages in one transaction (one round trip, one commit), then those sends.
 * - `ahead`: batched, and each modem's next message is claimed (committed `sending`) while its
 *   SMS is in flight, so its report is answered by the next send at once, the database off the
 *   path between them. (A service doing this would leave a message claimed but never sent at
 *   every crash, `unknown` to its user: one more per modem.)
 */
type FloorMode = 'per-message' | 'batched' | 'ahead';
async function rawAmiLoop(port: number, modems: number, total: number, timeoutMs: number, durable?: { pool: pg.Pool; mode: FloorMode }): Promise<RawResult> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  await within(once(socket, 'connect'), 5000, 'raw connect');

  let buffer = '';
  let bannerSeen = false;
  let onBlock: (fields: Map<string, string>) => void = () => {};
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (!bannerSeen) {
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      buffer = buffer.slice(eol + 2); // "Asterisk Call Manager/…"
      bannerSeen = true;
    }
    let end: number;
    while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 4);
      const fields = new Map<string, string>();
      for (const line of block.split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      onBlock(fields);
    }
  });

  const loggedIn = new Promise<void>((resolve, reject) => {
    onBlock = (f) => {
      if (f.get('actionid') !== 'login') return;
      if (f.get('response') === 'Success') resolve();
      else reject(new Error(`raw login: ${f.get('message')}`));
    };
  });
  socket.write('Action: Login\r\nActionID: login\r\nUsername: simcast\r\nSecret: simcast\r\n\r\n');
  await within(loggedIn, 5000, 'raw login');

  let next = 0;
  let reports = 0;
  let errors = 0;
  const write = (i: number, device: string) => {
    // The same shape of text and number as the end-to-end campaign.
    const text = `Клиент ${i + 1}, ваш заказ №A-${100000 + i} на ${1500 + (i % 700)},50 ₽ готов`;
    socket.write(
      `Action: DongleSendSMS\r\nActionID: s${i}\r\nDevice: ${device}\r\nNumber: +7912${String(i).padStart(7, '0')}\r\n` +
        `Message: ${text}\r\nReport: no\r\nPayload: raw-${i}\r\n\r\n`,
    );
  };
  const send = async (device: string) => {
    if (next >= total) return;
    const i = next++;
    if (durable) await durable.pool.query(`update bench_floor set state = 'sending', modem = $2 where id = $1`, [i, device]);
    write(i, device);
  };
  const batched = durable !== undefined && durable.mode !== 'per-message';
  const inFlight = new Set<string>();
  /** `ahead`: each modem's next message, committed `sending`, to be written at its report. */
  const ready = new Map<string, number>();
  const writeOrHold = (i: number, device: string) => {
    if (inFlight.has(device)) return void ready.set(device, i);
    inFlight.add(device);
    write(i, device);
  };
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const finish = () => {
    if (reports + errors >= total) resolveDone();
  };
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  let pending: Array<{ id: number | null; device: string }> = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    const sent = batch.filter((b) => b.id !== null).map((b) => b.id!);
    const nexts: Array<[number, string]> = [];
    for (const b of batch) if (next < total) nexts.push([next++, b.device]);
    const sql =
      `begin; ` +
      (sent.length ? `update bench_floor set state = 'sent' where id = any('{${sent.join(',')}}'::int[]); ` : '') +
      (nexts.length ? `update bench_floor f set state = 'sending', modem = v.m from (values ${nexts.map(([i, d]) => `(${i}, '${d}')`).join(', ')}) v(id, m) where f.id = v.id; ` : '') +
      `commit`;
    await durable!.pool.query(sql);
    reports += sent.length;
    for (const [i, d] of nexts) writeOrHold(i, d);
  };
  const queue = (id: number | null, device: string) => {
    if (pending.length === 0) setImmediate(() => void flush().then(() => finish(), fail));
    pending.push({ id, device });
  };
  /** Batched: the device is free (its report, `id`, or a refusal): its held message goes out, and the batch takes its next. */
  const freed = (device: string, id: number | null) => {
    inFlight.delete(device);
    const held = ready.get(device);
    ready.delete(device);
    if (held !== undefined) writeOrHold(held, device);
    queue(id, device);
  };
  const cpu0 = process.cpuUsage();
  const pgCpu0 = postgresCpuMs(postmaster);
  const t0 = process.hrtime.bigint();
  onBlock = (f) => {
    if (f.get('event') === 'DongleReport') {
      const device = f.get('device') ?? '';
      const id = Number(/^raw-(\d+)$/.exec(f.get('payload') ?? '')?.[1]);
      if (batched) return freed(device, id);
      const settled = durable ? durable.pool.query(`update bench_floor set state = 'sent' where id = $1`, [id]) : Promise.resolve();
      void settled.then(() => {
        reports++;
        void send(device).catch(fail);
        finish();
      }, fail);
    } else if (f.get('response') === 'Error') {
      errors++; // nothing queued: the device is free again
      const device = /^\[([^\]]+)\]/.exec(f.get('message') ?? '')?.[1];
      if (device && batched) freed(device, null);
      else if (device) void send(device).catch(fail);
      finish();
    }
  };
  for (let m = 0; m < modems; m++) {
    if (batched) {
      queue(null, `dongle${m}`);
      if (durable.mode === 'ahead') queue(null, `dongle${m}`);
    } else void send(`dongle${m}`).catch(fail);
  }
  let wallMs: number;
  try {
    await within(Promise.race([done, failed]), timeoutMs, 'raw loop');
  } finally {
    wallMs = ms(t0);
  }
  const cpuMs = cpuMsSince(cpu0);
  const pgCpuMs = postgresCpuSince(pgCpu0);
  socket.write('Action: Logoff\r\n\r\n');
  socket.end();
  await within(once(socket, 'close'), 5000, 'raw close').catch(() => socket.destroy());
  return { wallMs, cpuMs, pgCpuMs, reports, errors };
}

// ------------------------------------------------------------------------------- claim vs queue depth

/**
 * DispatchRepo.claimForSim alone (no AMI), timed at growing numbers of waiting messages in one
 * running campaign: the claim's cost should not grow with the queue.
 */
async function claimLatencyByDepth(knex: Knex, depths: readonly number[], claims: number): Promise<Array<{ depth: number; median: number; p90: number }>> {
  const now = systemClock.now();
  const listId = await new ListsRepo(knex).create(
    { name: 'bench-depth', fileName: 'depth.xlsx', columns: ['Телефон'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    [],
    now,
  );
  const campaignsRepo = new CampaignsRepo(knex);
  const campaignId = await campaignsRepo.create(
    { name: 'bench-depth', listId, template: 'x', kind: 'service', pricePerPart: 0.06, maxParts: 7, createdBy: null, ignoreWindow: false, sims: null },
    [],
    now,
  );
  await campaignsRepo.transition(campaignId, ['draft'], 'running', now);
  const imsi = '250990009999999';
  await new SimsRepo(knex).seen([{ imsi, device: 'depth0' }], 'bench-depth', now, {
    dailyLimit: 100_000,
    monthlyLimit: 1_000_000,
    minPauseSeconds: 0,
    maxPauseSeconds: 0,
    pricePerPart: 0.06,
  });
  const repo = new DispatchRepo(knex, 'bench-depth');
  const out: Array<{ depth: number; median: number; p90: number }> = [];
  let inserted = 0;
  for (const depth of depths) {
    // Plain rows of a running campaign; the depth counts the waiting ones (claimed ones leave).
    const add = depth - inserted;
    await knex.raw(
      `insert into messages (campaign_id, row_number, phone, text, parts, state, created_at)
       select ?, g, '+7913' || lpad(g::text, 7, '0'), 'Клиент ' || g || ', ваш заказ готов', 1, 'waiting', ?
         from generate_series(?::int, ?::int) g`,
      [campaignId, now, inserted + 1, inserted + add],
    );
    inserted += add;
    await knex.raw('analyze messages');
    const times: number[] = [];
    for (let i = 0; i < claims; i++) {
      const t0 = process.hrtime.bigint();
      const outcome = await repo.claimForSim(imsi, 'depth0', {
        now: systemClock.now(),
        timeZone: 'Europe/Moscow',
        windowOpen: true,
        notificationsIgnoreWindow: true,
        maxPartsPerMessage: 10,
        random: () => 0,
      });
      times.push(ms(t0));
      if (outcome.kind !== 'claimed') throw new Error(`claim at depth ${depth}: ${outcome.kind}`);
    }
    times.sort((a, b) => a - b);
    out.push({ depth, median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]! });
  }
  return out;
}

// ------------------------------------------------------------------------------- main

/**
 * The floor loop's table with a row per message it may send (ids 0…n-1): created at its first use,
 * extended when a later loop sends more (the realistic floor after a small BENCH_MESSAGES).
 */
async function floorTable(knex: Knex, n: number): Promise<void> {
  if (!(await knex.schema.hasTable('bench_floor'))) {
    await knex.schema.createTable('bench_floor', (t) => {
      t.integer('id').primary();
      t.text('state').notNullable();
      t.text('modem');
    });
  }
  const have = Number((await knex('bench_floor').count({ n: '*' }).first())?.n ?? 0);
  for (let i = have; i < n; i += 1000) {
    await knex('bench_floor').insert(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ id: i + k, state: 'waiting' })));
  }
}

/**
 * 3c. The floor at the realistic pace: the raw AMI loop plus its two committed writes per message
 * against the realistic modems (16 × one SMS per 5 s), CPU of this process per message. Machines
 * of one kind differ by ~2× in what a wake-up, a syscall and a round trip cost; this figure,
 * measured in the same run, says how expensive this machine is at this pace, so the realistic
 * figure can be read against it (their ratio moves far less between machines than either).
 */
async function floorAtRealisticPace(knex: Knex, databaseUrl: string): Promise<{ sent: number; cpuMsPerMsg: number; pgCpuMsPerMsg: number | null }> {
  const total = REAL_MODEMS * Math.floor(REAL_SECONDS / (REAL_DELAY_MS / 1000));
  await floorTable(knex, total);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: REAL_MODEMS });
  const sim = await startSimulator({ modems: REAL_MODEMS, delayPerPartMs: REAL_DELAY_MS });
  try {
    const r = await rawAmiLoop(sim.port, REAL_MODEMS, total, (REAL_SECONDS + 15) * 1000, { pool, mode: 'per-message' });
    return { sent: r.reports, cpuMsPerMsg: r.cpuMs / Math.max(1, r.reports), pgCpuMsPerMsg: perMessage(r.pgCpuMs, r.reports) };
  } finally {
    await pool.end();
    await sim.close();
  }
}

/**
 * 3d. REALISTIC WITH PAUSES: the 16 modems with the pause a new SIM gets by default between two of
 * its SMS (20–40 s against 5 s per SMS), scaled by 1/4 so the phase takes BENCH_PAUSED_SECONDS
 * (default 30) rather than two minutes: 1.25 s per SMS, pauses 5–10 s. Most modems are free and
 * pausing at any moment, which the pause-0 phases never show. In this process (tsx), like 3.
 */
async function realisticWithPauses(knex: Knex, log: Logger): Promise<CampaignRun> {
  const seconds = intEnv('BENCH_PAUSED_SECONDS', 30, 5, 600);
  const sim = await startSimulator({ modems: REAL_MODEMS, delayPerPartMs: 1250 });
  const d = await startDispatch(knex, sim.port, log, 'bench');
  // The SIMs were first seen with the bench's pause 0 (or just now): give them the scaled pauses.
  await knex('sims').update({ min_pause_seconds: 5, max_pause_seconds: 10 });
  // Per modem one SMS per 1.25 s + 7.5 s on average: about 1.8 SMS per second.
  const target = Math.floor((seconds * REAL_MODEMS) / 8.75);
  const seeded = await seedCampaign(knex, target + REAL_MODEMS * 2, 'bench-realistic-pauses');
  try {
    return await runCampaign(knex, d, seeded.campaigns, seeded.campaignId, target, { awaitFinished: false, timeoutMs: (seconds + 30) * 1000 });
  } finally {
    await d.stop();
    await sim.close();
    await seeded.campaigns.act(seeded.campaignId, 'cancel').catch(() => undefined);
    await knex('sims').update({ min_pause_seconds: 0, max_pause_seconds: 0 });
  }
}

/** The line printed for 3d. */
function describePaused(r: CampaignRun): string {
  const sent = r.counts.sent ?? 0;
  return (
    `3d. realistic with pauses (the default pauses scaled: 16 modems, 1.25 s per SMS, pauses 5–10 s): ${sent} sent in ${(r.wallMs / 1000).toFixed(1)} s: process CPU ${(r.cpuMs / Math.max(1, sent)).toFixed(2)} ms per message, ` +
    `PostgreSQL ${cell(perMessage(r.pgCpuMs, sent), 2)} ms per message, ${(r.queries / Math.max(1, sent)).toFixed(1)} SQL statements per message`
  );
}

const tableHeader = ['', 'messages', 'wall ms', 'msg/s', 'CPU ms/msg', 'PostgreSQL ms/msg', 'vs ceiling'];

/** CPU ms per message, or null when not measured. */
function perMessage(cpuMs: number | null, messages: number): number | null {
  return cpuMs === null ? null : cpuMs / Math.max(1, messages);
}
const cell = (value: number | null, digits = 3) => (value === null ? '—' : value.toFixed(digits));

/** The first row is the header: a rule under it, the first column left-aligned, the rest right. */
function printTable(table: string[][]): void {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  process.stdout.write('\n');
  for (const [i, r] of table.entries()) {
    process.stdout.write(`${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}\n`);
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

function silentOrDevNull(): Logger {
  return createLogger(LOG_LEVEL, pino.destination({ dest: '/dev/null', sync: true }));
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  process.stdout.write(
    `simcast dispatch bench — ${cpus.length} cores (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, log level ${LOG_LEVEL} → /dev/null\n`,
  );
  const tSetup = process.hrtime.bigint();
  const testDb: TestDatabase = await createTestDatabase();
  const knex = testDb.db.knex;
  const rows: string[][] = [];
  let exitCode = 0;
  try {
    const pgVersion = ((await knex.raw('show server_version')).rows[0] as { server_version: string }).server_version;
    await new SettingsRepo(knex).update(benchSettings, systemClock.now());
    const log = silentOrDevNull();
    postmaster = await postmasterPid(knex);
    process.stdout.write(
      `PostgreSQL ${pgVersion}, database ready in ${ms(tSetup).toFixed(0)} ms; its CPU ${postmaster === null ? 'not measured (not on this machine)' : 'measured from /proc (the whole server)'}\n\n`,
    );

    if (process.env.BENCH_ONLY_BUILT === '1') {
      // Only what a PBX runs, for quick before/after comparisons on a busy machine: idle, then realistic.
      const sim = await startSimulator({ modems: 2, delayPerPartMs: 1500 });
      const idle = await builtServiceIdle(testDb.url, sim.port);
      await sim.close();
      const floorReal = await floorAtRealisticPace(knex, testDb.url);
      const perModem = Math.floor(REAL_SECONDS / (REAL_DELAY_MS / 1000));
      const seeded = await seedCampaign(knex, REAL_MODEMS * (perModem + 2) + builtWarmupMessages(), 'bench-realistic-built');
      const r = await builtServiceRealistic(knex, testDb.url, seeded.campaigns, seeded.campaignId, REAL_MODEMS * perModem, (REAL_SECONDS + 20) * 1000);
      const perMsg = (w: CpuWindow) => `${w.sent} sent in ${(w.wallMs / 1000).toFixed(1)} s, CPU ${w.cpuMs.toFixed(0)} ms = ${(w.cpuMs / Math.max(1, w.sent)).toFixed(2)} ms per message (user ${w.userMs.toFixed(0)}, kernel ${w.kernelMs.toFixed(0)}; main thread ${w.mainMs.toFixed(0)}, V8's helper threads ${(w.cpuMs - w.mainMs).toFixed(0)})`;
      process.stdout.write(
        `built service: idle ${idle ? describeIdle(idle) : '—'}\n` +
          `  realistic, first ${BUILT_SENDING_WARMUP_SECONDS} s of sending: ${r ? perMsg(r.firstMinute) : '—'}\n` +
          `  realistic, then: ${r ? perMsg(r) : '—'}${r ? ` = ×${(r.cpuMs / Math.max(1, r.sent) / floorReal.cpuMsPerMsg).toFixed(1)} the floor at this pace` : ''}\n` +
          `  floor at this pace on this machine (raw AMI loop + 2 committed writes/msg, ${floorReal.sent} SMS): ${floorReal.cpuMsPerMsg.toFixed(2)} ms CPU per message\n` +
          `  peak RSS ${r ? r.peakRssMb.toFixed(0) : '—'} MB\n`,
      );
      return;
    }

    if (process.env.BENCH_ONLY_PAUSED === '1') {
      const paused = await realisticWithPauses(knex, log);
      process.stdout.write(`${describePaused(paused)}\n`);
      process.stdout.write(`   statements by count: ${[...paused.sql].sort((a, b) => b[1].n - a[1].n).slice(0, 8).map(([text, { n }]) => `${n}× ${text.slice(0, 50)}`).join(' | ')}\n`);
      return;
    }

    // BENCH_ONLY_E2E=1: only the end to end, the ceiling and the floor (a quick before/after of throughput).
    const onlyE2e = process.env.BENCH_ONLY_E2E === '1';
    let idleServiceCpuMsPerS = Number.NaN;
    if (!onlyE2e) {
      // ---- 0. the whole service, idle
      const sim0 = await startSimulator({ modems: 2, delayPerPartMs: 1500 });
      const service = await startService(
        loadConfig({ PORT: '0', DATABASE_URL: testDb.url, AMI_HOST: '127.0.0.1', AMI_PORT: String(sim0.port), AMI_USER: 'simcast', AMI_SECRET: 'simcast', SESSION_SECRET: 'bench-session-secret-0123456789', INSTANCE_ID: 'bench-idle' }),
        log,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000)); // start-up settles (first modem listing)
      gc();
      const serviceCpu0 = process.cpuUsage();
      const serviceT0 = process.hrtime.bigint();
      await new Promise((resolve) => setTimeout(resolve, IN_PROCESS_IDLE_SECONDS * 1000));
      const inProcessIdleCpuMsPerS = (cpuMsSince(serviceCpu0) / ms(serviceT0)) * 1000;
      await service.close();
      process.stdout.write(
        `0. idle service (web, dispatcher, AMI to 2 simulated modems, nothing to send) for ${IN_PROCESS_IDLE_SECONDS} s, in this process under tsx: ${inProcessIdleCpuMsPerS.toFixed(2)} ms CPU per s\n`,
      );
      const built = await builtServiceIdle(testDb.url, sim0.port);
      await sim0.close();
      if (built === null) process.stdout.write(`   (no build: run npm run build to measure what a PBX runs)\n`);
      else process.stdout.write(`   the built service (node dist/main.js, after ${BUILT_WARMUP_SECONDS} s of start-up): ${describeIdle(built)} (before ${TODAY.idleCpuMsPerS}, target ≤ ${TARGET.idleCpuMsPerS})\n`);
      idleServiceCpuMsPerS = built?.msPerS ?? inProcessIdleCpuMsPerS;
      if (idleServiceCpuMsPerS > TARGET.idleCpuMsPerS) process.stdout.write(`   ! above the target\n`);
    }

    // ---- 1. end to end
    const seed = process.hrtime.bigint();
    const e2e = await seedCampaign(knex, MESSAGES, 'bench-e2e');
    process.stdout.write(`1. end to end: ${MESSAGES} messages (${e2e.sendable} sendable), ${MODEMS} modems, delay 0, pause 0 — seeded in ${ms(seed).toFixed(0)} ms\n`);
    const sim1 = await startSimulator({ modems: MODEMS, delayPerPartMs: 0 });
    const d1 = await startDispatch(knex, sim1.port, log, 'bench');
    // The simulator's own start (tsx compiling it) is not the run's: its CPU is counted from here.
    const sim1CpuMs0 = (await sim1.stats()).cpuMs;
    const machine0 = machineCpu();
    const run1 = await runCampaign(knex, d1, e2e.campaigns, e2e.campaignId, e2e.sendable, { awaitFinished: true, timeoutMs: PHASE_TIMEOUT_MS });
    const machineBusy = machineCpu(machine0);
    await d1.stop();
    const sim1Stats = await sim1.stats();
    const sim1CpuMs = sim1Stats.cpuMs - sim1CpuMs0;
    await sim1.close();
    const db1 = await dbCounts(knex, e2e.campaignId);
    const sent1 = run1.counts.sent ?? 0;
    const rate1 = (sent1 / run1.wallMs) * 1000;
    process.stdout.write(
      `   last sent after ${run1.wallMs.toFixed(0)} ms, campaign finished after ${run1.finishedMs?.toFixed(0) ?? '—'} ms; ` +
        `database: ${JSON.stringify(db1)}; simulator: ${sim1Stats.sms} SMS, ${sim1Stats.actions} actions, ${sim1Stats.duplicatePayloads} duplicate payloads, ${sim1CpuMs.toFixed(0)} ms CPU during the run\n` +
        `   longest gap between two consecutive 'sent' events: ${run1.maxGapMs.toFixed(0)} ms (mean ${(run1.wallMs / Math.max(1, sent1)).toFixed(1)} ms)\n` +
        `   machine CPU busy ${machineBusy.toFixed(0)} % of ${os.cpus().length} cores (this process ${((run1.cpuMs / run1.wallMs) * 100).toFixed(0)} % of one core; the rest is PostgreSQL + simulator)\n` +
        `   ${run1.queries} SQL statements = ${(run1.queries / Math.max(1, sent1)).toFixed(2)} per message; slowest in total (client-side latency):\n`,
    );
    for (const [text, { n, ms: total }] of run1.sql.slice(0, 6)) {
      process.stdout.write(`     ${String(n).padStart(6)} × ${(total / n).toFixed(2).padStart(6)} ms = ${total.toFixed(0).padStart(6)} ms  ${text}\n`);
    }
    if (run1.timedOut || sent1 !== e2e.sendable || sim1Stats.duplicatePayloads > 0) exitCode = 1;
    // A campaign cut short by the phase timeout must not stay running: started first, it would be
    // served before the realistic campaigns below and starve them.
    if (run1.timedOut) await e2e.campaigns.act(e2e.campaignId, 'cancel').catch(() => undefined);

    // ---- 2. ceiling
    const sim2 = await startSimulator({ modems: MODEMS, delayPerPartMs: 0 });
    const sim2CpuMs0 = (await sim2.stats()).cpuMs;
    const raw = await rawAmiLoop(sim2.port, MODEMS, MESSAGES, PHASE_TIMEOUT_MS);
    const sim2CpuMs = (await sim2.stats()).cpuMs - sim2CpuMs0;
    await sim2.close();
    const rawRate = (raw.reports / raw.wallMs) * 1000;
    process.stdout.write(
      `2. ceiling: raw AMI loop over node:net, ${MESSAGES} messages, ${MODEMS} modems: ${raw.reports} reports, ${raw.errors} errors in ${raw.wallMs.toFixed(0)} ms; simulator ${sim2CpuMs.toFixed(0)} ms CPU during the loop = ${(sim2CpuMs / Math.max(1, raw.reports)).toFixed(2)} ms per message\n`,
    );
    if (raw.reports !== MESSAGES) exitCode = 1;

    // ---- 2b–2d. floors: the raw loop plus the writes that keep a state before its action
    await floorTable(knex, MESSAGES);
    const floorRun = async (mode: FloorMode): Promise<RawResult> => {
      await knex('bench_floor').update({ state: 'waiting', modem: null });
      const pool = new pg.Pool({ connectionString: testDb.url, max: MODEMS });
      const sim = await startSimulator({ modems: MODEMS, delayPerPartMs: 0 });
      try {
        return await rawAmiLoop(sim.port, MODEMS, MESSAGES, PHASE_TIMEOUT_MS, { pool, mode });
      } finally {
        await pool.end();
        await sim.close();
      }
    };
    const floor = await floorRun('per-message');
    const floorRate = (floor.reports / floor.wallMs) * 1000;
    process.stdout.write(
      `2b. floor of a dispatcher that writes each state before its action: the raw loop + one committed UPDATE before each send and one after its report (${MODEMS} connections): ${floor.reports} reports in ${floor.wallMs.toFixed(0)} ms\n`,
    );
    // Beyond the present design: several messages per commit; and the next message claimed before the report.
    const batchedFloor = await floorRun('batched');
    const aheadFloor = await floorRun('ahead');
    process.stdout.write(
      `2c. floor of a batched dispatcher: the same writes, the reports of one event-loop turn and their modems' next messages in one transaction: ${batchedFloor.reports} reports in ${batchedFloor.wallMs.toFixed(0)} ms\n` +
        `2d. the same, each modem's next message committed while its SMS is in flight (sent at the report, no database between): ${aheadFloor.reports} reports in ${aheadFloor.wallMs.toFixed(0)} ms\n`,
    );
    const floorRow = (label: string, r: RawResult) => {
      const rate = (r.reports / r.wallMs) * 1000;
      rows.push([label, String(r.reports), r.wallMs.toFixed(0), rate.toFixed(0), (r.cpuMs / Math.max(1, r.reports)).toFixed(3), cell(perMessage(r.pgCpuMs, r.reports)), `${((rate / rawRate) * 100).toFixed(1)} %`]);
    };

    rows.push([`end to end (${MODEMS} modems, delay 0)`, String(sent1), run1.wallMs.toFixed(0), rate1.toFixed(0), (run1.cpuMs / Math.max(1, sent1)).toFixed(3), cell(perMessage(run1.pgCpuMs, sent1)), `${((rate1 / rawRate) * 100).toFixed(1)} % (1/${(rawRate / rate1).toFixed(1)}); ${((rate1 / floorRate) * 100).toFixed(0)} % of the floor`]);
    rows.push([`CEILING raw AMI loop (${MODEMS} modems)`, String(raw.reports), raw.wallMs.toFixed(0), rawRate.toFixed(0), (raw.cpuMs / Math.max(1, raw.reports)).toFixed(3), '', '100 %']);
    floorRow(`floor: raw loop + 2 committed writes/msg`, floor);
    floorRow(`floor, batched: 1 commit per turn`, batchedFloor);
    floorRow(`floor, batched, next claimed ahead`, aheadFloor);

    // What the target of issue #10 (50 % of the raw loop) asks of this machine, in CPU: all its cores'
    // time per message at that rate, against what a message costs end to end now, all processes.
    const pgPerMsg1 = perMessage(run1.pgCpuMs, sent1);
    if (pgPerMsg1 !== null && sent1 > 0) {
      const budget = (os.cpus().length * 1000) / (0.5 * rawRate);
      const spent = run1.cpuMs / sent1 + pgPerMsg1 + sim1CpuMs / sent1;
      process.stdout.write(
        `   CPU per message end to end, all processes: this process ${(run1.cpuMs / sent1).toFixed(2)} + PostgreSQL ${pgPerMsg1.toFixed(2)} + simulator ${(sim1CpuMs / sent1).toFixed(2)} = ${spent.toFixed(2)} ms; ` +
          `at 50 % of the raw loop (${(rawRate / 2).toFixed(0)} msg/s) ${os.cpus().length} cores leave ${budget.toFixed(2)} ms per message for all three\n`,
      );
    }

    if (onlyE2e) {
      printTable([tableHeader, ...rows]);
      return;
    }

    // ---- 3. realistic: 16 modems × one SMS per 5 s
    const perModem = Math.floor(REAL_SECONDS / (REAL_DELAY_MS / 1000));
    const target = REAL_MODEMS * perModem;
    const real = await seedCampaign(knex, target + REAL_MODEMS * 2, 'bench-realistic');
    process.stdout.write(
      `3. realistic: ${REAL_MODEMS} modems × ${REAL_DELAY_MS} ms per SMS, until ${target} sent (~${REAL_SECONDS} s)\n`,
    );
    const sim3 = await startSimulator({ modems: REAL_MODEMS, delayPerPartMs: REAL_DELAY_MS });
    const d3 = await startDispatch(knex, sim3.port, log, 'bench');
    // Baseline: the same process idle (gateway connected, dispatcher looping, nothing to send).
    gc();
    const idleCpu0 = process.cpuUsage();
    const idleT0 = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleCpuMsPerS = (cpuMsSince(idleCpu0) / ms(idleT0)) * 1000;
    gc();
    const mem0 = process.memoryUsage();
    let peakRss = mem0.rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 250);
    const run3 = await runCampaign(knex, d3, real.campaigns, real.campaignId, target, {
      awaitFinished: false,
      timeoutMs: (REAL_SECONDS + 15) * 1000,
    });
    clearInterval(sampler);
    const mem1 = process.memoryUsage();
    peakRss = Math.max(peakRss, mem1.rss);
    await d3.stop();
    await sim3.close();
    // Its spare waiting messages must not be sent by the built service below.
    await real.campaigns.act(real.campaignId, 'cancel').catch(() => undefined);
    const sent3 = run3.counts.sent ?? 0;
    const cpuPerMsg3 = run3.cpuMs / Math.max(1, sent3);
    process.stdout.write(
      `   ${sent3} sent in ${(run3.wallMs / 1000).toFixed(1)} s, process CPU ${run3.cpuMs.toFixed(0)} ms (${((run3.cpuMs / run3.wallMs) * 100).toFixed(2)} % of one core), ` +
        `${run3.queries} SQL statements (${(run3.queries / Math.max(1, sent3)).toFixed(2)} per message)\n` +
        `   idle baseline: ${idleCpuMsPerS.toFixed(2)} ms CPU per s (${IDLE_MS / 1000} s, nothing to send) → ${((idleCpuMsPerS * run3.wallMs) / 1000 / Math.max(1, sent3)).toFixed(3)} ms of the per-message figure is idle looping\n` +
        `   RSS ${mb(mem0.rss)} → ${mb(mem1.rss)} MB (peak sampled ${mb(peakRss)} MB, process max ${mb(process.resourceUsage().maxRSS * 1024)} MB), heap used ${mb(mem0.heapUsed)} → ${mb(mem1.heapUsed)} MB\n`,
    );
    process.stdout.write(`   statements by count: ${[...run3.sql].sort((a, b) => b[1].n - a[1].n).slice(0, 12).map(([text, { n }]) => `${n}× ${text.slice(0, 40)}`).join(' | ')}\n`);
    if (run3.timedOut) exitCode = 1;
    rows.push([`realistic (${REAL_MODEMS} modems, 1 SMS/5 s each)`, String(sent3), run3.wallMs.toFixed(0), ((sent3 / run3.wallMs) * 1000).toFixed(1), cpuPerMsg3.toFixed(3), cell(perMessage(run3.pgCpuMs, sent3)), `CPU ×${(cpuPerMsg3 / (raw.cpuMs / Math.max(1, raw.reports))).toFixed(1)} of raw loop`]);

    // ---- 3b. realistic against the built service (what a PBX runs), CPU from /proc
    const realBuilt = await seedCampaign(knex, target + REAL_MODEMS * 2 + builtWarmupMessages(), 'bench-realistic-built');
    const built3 = await builtServiceRealistic(knex, testDb.url, realBuilt.campaigns, realBuilt.campaignId, target, (REAL_SECONDS + 20) * 1000);
    // Its spare waiting messages must not be sent by the dispatchers below (3d counts its own campaign's).
    await realBuilt.campaigns.act(realBuilt.campaignId, 'cancel').catch(() => undefined);
    const builtCpuPerMsg3 = built3 ? built3.cpuMs / Math.max(1, built3.sent) : null;
    if (!built3) process.stdout.write(`   (no build: run npm run build to measure the realistic cost of what a PBX runs)\n`);
    else {
      process.stdout.write(
        `   the built service (node dist/main.js serve, log level ${LOG_LEVEL} → /dev/null), first ${BUILT_SENDING_WARMUP_SECONDS} s of sending after start-up: ` +
          `${built3.firstMinute.sent} sent, CPU ${built3.firstMinute.cpuMs.toFixed(0)} ms = ${(built3.firstMinute.cpuMs / Math.max(1, built3.firstMinute.sent)).toFixed(2)} ms per message (V8 still compiling)\n` +
          `   then ${built3.sent} sent in ${(built3.wallMs / 1000).toFixed(1)} s, ` +
          `CPU ${built3.cpuMs.toFixed(0)} ms = ${builtCpuPerMsg3!.toFixed(2)} ms per message (user ${built3.userMs.toFixed(0)} ms, kernel ${built3.kernelMs.toFixed(0)} ms; main thread ${built3.mainMs.toFixed(0)} ms, V8's helper threads ${(built3.cpuMs - built3.mainMs).toFixed(0)} ms; SQL statements per message as in this process: same code)\n`,
      );
      if (built3.sent < target) exitCode = 1;
      rows.push([`realistic, BUILT service (child process)`, String(built3.sent), built3.wallMs.toFixed(0), ((built3.sent / built3.wallMs) * 1000).toFixed(1), builtCpuPerMsg3!.toFixed(3), '', '']);
    }
    const floorReal = await floorAtRealisticPace(knex, testDb.url);
    process.stdout.write(
      `3c. floor at this pace on this machine: the raw AMI loop + 2 committed writes/msg against the same 16 modems, ${floorReal.sent} SMS: ${floorReal.cpuMsPerMsg.toFixed(2)} ms CPU per message\n`,
    );
    rows.push([`floor at the realistic pace`, String(floorReal.sent), '', '', floorReal.cpuMsPerMsg.toFixed(3), cell(floorReal.pgCpuMsPerMsg), '']);
    const paused = await realisticWithPauses(knex, log);
    process.stdout.write(`${describePaused(paused)}\n`);
    const pausedSent = paused.counts.sent ?? 0;
    if (paused.timedOut) exitCode = 1;
    rows.push([`realistic with pauses (16 modems)`, String(pausedSent), paused.wallMs.toFixed(0), ((pausedSent / paused.wallMs) * 1000).toFixed(1), (paused.cpuMs / Math.max(1, pausedSent)).toFixed(3), cell(perMessage(paused.pgCpuMs, pausedSent)), '']);
    const realisticCpuPerMsg = builtCpuPerMsg3 ?? cpuPerMsg3;
    const statementsPerMsg = run3.queries / Math.max(1, sent3);

    // ---- 4. claim latency vs queue depth
    const depths = await claimLatencyByDepth(knex, [1000, DEPTH], 25);
    process.stdout.write(
      `4. DispatchRepo.claimForSim alone, 25 claims per depth: ${depths.map((d) => `${d.depth} waiting → median ${d.median.toFixed(2)} ms, p90 ${d.p90.toFixed(2)} ms`).join('; ')}\n`,
    );

    // ---- table
    printTable([tableHeader, ...rows]);
    process.stdout.write(
      `\ncost on the PBX      this run  before   target\n` +
        `idle, ms CPU/s    ${idleServiceCpuMsPerS.toFixed(2).padStart(9)}  ${String(TODAY.idleCpuMsPerS).padStart(6)}  ${`≤ ${TARGET.idleCpuMsPerS}`.padStart(7)}\n` +
        `realistic, ms/msg ${realisticCpuPerMsg.toFixed(2).padStart(9)}  ${String(TODAY.realisticCpuMsPerMsg).padStart(6)}  ${`≤ ${TARGET.realisticCpuMsPerMsg}`.padStart(7)}   (${builtCpuPerMsg3 === null ? 'in this process under tsx' : `built service; in this process under tsx ${cpuPerMsg3.toFixed(2)}`}; ×${(realisticCpuPerMsg / floorReal.cpuMsPerMsg).toFixed(1)} the floor at this pace, ${floorReal.cpuMsPerMsg.toFixed(2)} here)\n` +
        `SQL statements/msg ${statementsPerMsg.toFixed(2).padStart(8)}  ${String(TODAY.statementsPerMsg).padStart(6)}  ${`≤ ${TARGET.statementsPerMsg}`.padStart(7)}   (realistic)\n` +
        `end to end, % of raw AMI loop ${((rate1 / rawRate) * 100).toFixed(1).padStart(5)}  ${String(TODAY.percentOfCeiling).padStart(6)}  ${`≥ ${TARGET.percentOfCeiling}`.padStart(7)}\n`,
    );
    process.stdout.write(
      `\nrealistic RSS at end ${mb(mem1.rss)} MB, heap ${mb(mem1.heapUsed)} MB; CPU is this process only (simulator in a child, PostgreSQL separate).\n`,
    );
  } finally {
    await testDb.drop();
  }
  process.exitCode = exitCode;
}

await main();
