/**
 * A DongleGateway connected over real TCP to an AmiSimulator, with short delays and timeouts,
 * both closed when the test ends; plus an EventLog that records the gateway's events.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { pino, type Logger } from 'pino';
import { DongleGateway, type DongleGatewayOptions } from '../../src/modems/ami/dongle-gateway.js';
import type { GatewayEvent } from '../../src/modems/sms-gateway.js';
import { AmiSimulator, type AmiSimulatorOptions } from '../../src/simulator/ami-simulator.js';

export const MODEMS = [
  { device: 'dongle0', imsi: '250990000000001', imei: '359999000000001', operator: 'SimNet' },
  { device: 'dongle1', imsi: '250990000000002', imei: '359999000000002', operator: 'SimNet' },
];

export type Report = Extract<GatewayEvent, { type: 'report' }>;

/** Records gateway events and lets a test await the next matching one. */
export class EventLog {
  readonly events: GatewayEvent[] = [];
  private waiters: Array<{ pred: (e: GatewayEvent) => boolean; resolve: (e: GatewayEvent) => void; from: number }> = [];

  push = (e: GatewayEvent): void => {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(e)) { this.waiters = this.waiters.filter((x) => x !== w); w.resolve(e); }
    }
  };

  /** Resolves with the first matching event at index >= `from` (default: any, including past ones). */
  waitFor(pred: (e: GatewayEvent) => boolean, ms = 3000, from = 0): Promise<GatewayEvent> {
    const past = this.events.slice(from).find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching gateway event within ${ms} ms; got ${JSON.stringify(this.events)}`)), ms);
      this.waiters.push({ pred, from, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }

  count(pred: (e: GatewayEvent) => boolean): number {
    return this.events.filter(pred).length;
  }

  /** The reports received for one message, in order. */
  reports(id: string): Report[] {
    return this.events.filter((e): e is Report => e.type === 'report' && e.messageId === id);
  }
}

export interface AmiHarness {
  sim: AmiSimulator;
  gw: DongleGateway;
  events: EventLog;
}

export interface AmiHarnessOptions {
  /** Connect before returning (default true); the connection must succeed unless `gwOpts.secret` is set (a wrong one). */
  start?: boolean;
  /** The gateway's logger (default: silent). */
  log?: Logger;
}

/**
 * Starts a simulator with MODEMS (authFailDelayMs, delayPerPartMs and deliveryReportDelayMs 20 unless
 * `simOpts` says otherwise) and a gateway logged in to it, both closed after the test.
 */
export async function harness(
  t: TestContext,
  simOpts: Partial<AmiSimulatorOptions> = {},
  gwOpts: Partial<DongleGatewayOptions> = {},
  { start = true, log = pino({ level: 'silent' }) }: AmiHarnessOptions = {},
): Promise<AmiHarness> {
  const sim = await AmiSimulator.start({ modems: MODEMS, authFailDelayMs: 20, delayPerPartMs: 20, deliveryReportDelayMs: 20, ...simOpts });
  const gw = new DongleGateway({
    host: '127.0.0.1', port: sim.port, username: 'simcast', secret: 'simcast', log,
    actionTimeoutMs: 1000, pingIntervalMs: 0, connectTimeoutMs: 1000,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    ...gwOpts,
  });
  const events = new EventLog();
  gw.subscribe(events.push);
  t.after(async () => {
    await gw.close();
    await sim.close();
  });
  if (start) assert.equal(await gw.start(), gwOpts.secret === undefined);
  return { sim, gw, events };
}
