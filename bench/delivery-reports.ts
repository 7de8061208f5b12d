/**
 * `npm run bench:dlr` — does a campaign with delivery reports keep the pace of one without, and
 * what do the queue polls cost? Real time, real PostgreSQL, the simulator in this process (so the
 * CPU figure is simcast's and the simulator's together: compare the two rows, not with
 * bench/dispatch.ts).
 *
 * BENCH_DLR_MODEMS (default 4) modems taking BENCH_DLR_SMS_MS (default 2000) per SMS, pause 0,
 * BENCH_DLR_PER_MODEM (default 5) SMS each; with delivery reports the operator's report comes
 * BENCH_DLR_REPORT_MS (default 4000) after the submit (as measured on a real Asterisk 18 +
 * chan_dongle: +CMGS at 2 s, the status report 4 s later). The same campaign runs without
 * delivery reports first (the baseline), then with them. Printed per run: wall time, msg/s, the
 * mean gap between two SMS of one modem (claim to claim), DongleShowDevices actions per message,
 * process CPU per message. Before the queue watch, each SMS with delivery reports held its modem
 * until its report: SMS time + report delay per SMS.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { CampaignsRepo } from '../src/campaigns/campaigns-repo.js';
import { CampaignsService } from '../src/campaigns/campaigns-service.js';
import { systemClock } from '../src/clock.js';
import { campaignCompliance } from '../src/compliance/compliance-repo.js';
import { DispatchRepo } from '../src/dispatcher/dispatch-repo.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import { exclusionReasons } from '../src/i18n/ru.js';
import { ListsRepo } from '../src/lists/lists-repo.js';
import { DongleGateway } from '../src/modems/ami/dongle-gateway.js';
import { SettingsRepo } from '../src/settings/settings-repo.js';
import { AmiSimulator } from '../src/simulator/ami-simulator.js';
import { SimsRepo } from '../src/sims/sims-repo.js';
import { createTestDatabase } from '../test/helpers/test-db.js';

const MODEMS = Number(process.env.BENCH_DLR_MODEMS ?? 4);
const SMS_MS = Number(process.env.BENCH_DLR_SMS_MS ?? 2000);
const REPORT_MS = Number(process.env.BENCH_DLR_REPORT_MS ?? 4000);
const PER_MODEM = Number(process.env.BENCH_DLR_PER_MODEM ?? 5);

const log = pino({ level: 'silent' });
const db = await createTestDatabase();
const knex = db.db.knex;
const settingsRepo = new SettingsRepo(knex);

interface Run {
  wallMs: number;
  sent: number;
  meanGapMs: number;
  pollsPerMsg: number;
  cpuMsPerMsg: number;
}

async function run(deliveryReports: boolean, label: string): Promise<Run> {
  await settingsRepo.update(
    { deliveryReports, sendPauseSeconds: 0, sendPauseMaxSeconds: 0, window: { from: '00:00', to: '00:00' }, messageTimeoutSeconds: 90 },
    systemClock.now(),
  );
  const sim = await AmiSimulator.start({
    modems: Array.from({ length: MODEMS }, (_, i) => ({ device: `dongle${i}`, imsi: `25099${String(i + 1).padStart(10, '0')}` })),
    delayPerPartMs: SMS_MS,
    deliveryReportDelayMs: REPORT_MS,
    authFailDelayMs: 20,
  });
  const gateway = new DongleGateway({ host: '127.0.0.1', port: sim.port, username: 'simcast', secret: 'simcast', log });
  await gateway.start();
  const dispatcher = new Dispatcher({ repo: new DispatchRepo(knex, `bench-${label}`), sims: new SimsRepo(knex), gateway, clock: systemClock, log, settings: () => settingsRepo.get() });
  const abort = new AbortController();
  const loop = dispatcher.run(abort.signal);
  await once(dispatcher.events, 'tick');

  const n = MODEMS * PER_MODEM;
  const lists = new ListsRepo(knex);
  const listId = await lists.create(
    { name: label, fileName: 'b.xlsx', columns: ['Телефон'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
    Array.from({ length: n }, (_, i) => `+7912${label === 'off' ? 1 : 2}${String(i).padStart(6, '0')}`).map((phone, i) => ({ rowNumber: i + 2, phone, fields: { Телефон: phone } })),
    systemClock.now(),
  );
  const campaigns = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings: settingsRepo, clock: systemClock, compliance: campaignCompliance(knex, exclusionReasons) });
  campaigns.onChange = () => dispatcher.notify();
  const { campaign } = await campaigns.create({ name: label, listId, template: 'Здравствуйте!', kind: 'service', createdBy: null });
  // Only the SMS leaving the modems is timed: with delivery reports, the reports come afterwards.
  let sent = 0;
  const done = new Promise<void>((resolve) => {
    dispatcher.events.on('message', (e) => {
      if (e.campaignId === campaign.id && e.state === 'sent' && ++sent === n) resolve();
    });
  });
  const polls0 = sim.received.filter((a) => a.action === 'DongleShowDevices').length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await campaigns.act(campaign.id, 'start');
  await done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const polls = sim.received.filter((a) => a.action === 'DongleShowDevices').length - polls0;
  abort.abort();
  await loop;
  dispatcher.detach();
  await gateway.close();
  await sim.close();

  const rows: Array<{ imsi: string; claimed_at: Date }> = await knex('messages').where({ campaign_id: campaign.id }).select('imsi', 'claimed_at');
  const bySim = new Map<string, number[]>();
  for (const r of rows) bySim.set(r.imsi, [...(bySim.get(r.imsi) ?? []), new Date(r.claimed_at).getTime()]);
  const gaps = [...bySim.values()].flatMap((times) => times.sort((a, b) => a - b).slice(1).map((t, i) => t - times[i]!));
  return { wallMs, sent, meanGapMs: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length), pollsPerMsg: polls / n, cpuMsPerMsg: (cpu.user + cpu.system) / 1000 / n };
}

try {
  console.log(`${MODEMS} modems × ${PER_MODEM} SMS, ${SMS_MS} ms per SMS, pause 0; delivery reports ${REPORT_MS} ms after the submit`);
  const off = await run(false, 'off');
  const on = await run(true, 'on');
  const line = (name: string, r: Run) =>
    `${name.padEnd(28)} ${String(r.sent).padStart(4)} sent  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${((r.sent / r.wallMs) * 1000).toFixed(2).padStart(6)} msg/s  ` +
    `gap ${(r.meanGapMs / 1000).toFixed(2)} s  ${r.pollsPerMsg.toFixed(1).padStart(5)} DongleShowDevices/msg  ${r.cpuMsPerMsg.toFixed(1).padStart(6)} ms CPU/msg`;
  console.log(line('without delivery reports', off));
  console.log(line('with delivery reports', on));
  console.log(`pace with reports: ${((on.wallMs / off.wallMs) * 100).toFixed(0)} % of the time without; before the queue watch each SMS held its modem ${((SMS_MS + REPORT_MS) / 1000).toFixed(1)} s (SMS + report)`);
} finally {
  await db.drop();
}
