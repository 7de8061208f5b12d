/**
 * The chan_dongle simulator in its own process, for bench/dispatch.ts: the bench measures the CPU
 * of the process that sends (simcast, or the raw AMI loop), so the simulator must not share it.
 *
 * Started with child_process.fork(); argv[2] is a JSON {@link SimChildConfig}. Talks over IPC:
 *   child → parent  { type: 'ready', port }
 *   parent → child  { type: 'stats' }  → { type: 'stats', ...SimChildStats }
 *   parent → child  { type: 'close' }  → closes the simulator and exits 0
 * It also exits when the parent goes away (IPC disconnect), so it can never outlive the bench.
 */
import { AmiSimulator, type SimModemOptions } from '../src/simulator/ami-simulator.js';

export interface SimChildConfig {
  modems: number;
  delayPerPartMs: number;
}

export interface SimChildStats {
  /** SMS the modems worked on. */
  sms: number;
  sent: number;
  failed: number;
  /** Payloads seen more than once (a duplicate send would show here). */
  duplicatePayloads: number;
  /** Actions received, all kinds. */
  actions: number;
  /** This process's CPU time since start, ms. */
  cpuMs: number;
}

function simModems(count: number): SimModemOptions[] {
  return Array.from({ length: count }, (_, i) => ({
    device: `dongle${i}`,
    imsi: `25099${String(i + 1).padStart(10, '0')}`,
    imei: `35999900${String(i + 1).padStart(7, '0')}`,
    operator: 'Имитатор',
  }));
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as SimChildConfig;
  const sim = await AmiSimulator.start({
    modems: simModems(config.modems),
    delayPerPartMs: config.delayPerPartMs,
    authFailDelayMs: 20,
  });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await sim.close();
    process.exit(0);
  };
  process.on('disconnect', () => void close());
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'close') void close();
    if (m.type === 'stats') {
      const payloads = new Set<string>();
      let duplicatePayloads = 0;
      for (const s of sim.sent) {
        if (payloads.has(s.payload)) duplicatePayloads++;
        payloads.add(s.payload);
      }
      const cpu = process.cpuUsage();
      const stats: SimChildStats = {
        sms: sim.sent.length,
        sent: sim.sent.filter((s) => s.outcome === 'sent').length,
        failed: sim.sent.filter((s) => s.outcome === 'failed').length,
        duplicatePayloads,
        actions: sim.received.length,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      process.send?.({ type: 'stats', ...stats });
    }
  });
  process.send?.({ type: 'ready', port: sim.port });
}

if (process.send && process.argv[2]?.startsWith('{')) {
  await main();
} else {
  process.stderr.write('bench/sim-child.ts is started by bench/dispatch.ts (child_process.fork), not by hand\n');
  process.exit(2);
}
