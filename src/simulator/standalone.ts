/**
 * `npm run simulator`: a chan_dongle-over-AMI simulator with two modems, for development and
 * browser tests. Env: SIM_PORT (default 0 = a random free port), SIM_DELAY_MS (per SMS part).
 * Runs until Ctrl-C.
 */
import { AmiSimulator } from './ami-simulator.js';

const port = Number.parseInt(process.env.SIM_PORT ?? '0', 10);
const delay = Number.parseInt(process.env.SIM_DELAY_MS ?? '1000', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`SIM_PORT must be 0..65535, got ${JSON.stringify(process.env.SIM_PORT)}\n`);
  process.exit(2);
}
if (!Number.isInteger(delay) || delay < 0) {
  process.stderr.write(`SIM_DELAY_MS must be a non-negative integer, got ${JSON.stringify(process.env.SIM_DELAY_MS)}\n`);
  process.exit(2);
}

const sim = await AmiSimulator.start({
  port,
  username: 'simcast',
  secret: 'simcast',
  delayPerPartMs: delay,
  modems: [
    { device: 'dongle0', imsi: '250990000000001', imei: '359999000000001', operator: 'SimNet', subscriberNumber: '+79990000001' },
    { device: 'dongle1', imsi: '250990000000002', imei: '359999000000002', operator: 'SimNet', subscriberNumber: '+79990000002' },
  ],
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`AMI simulator listening on ${sim.host}:${sim.port} (user simcast / secret simcast)\n`);

let isStopping = false;
async function stop(): Promise<void> {
  if (isStopping) return;
  isStopping = true;
  await sim.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
