/**
 * The simulator's chan_dongle queue, which the dispatcher reads to know that an SMS left the modem
 * when delivery reports are on: DongleShowDevices byte for byte as recorded (chan-dongle-slow.txt),
 * TasksInQueue one task per part down to 0 at the last submit, and with `Report: yes` no event
 * until the delivery report.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { harness, type Report } from '../helpers/ami-harness.js';
import { serverChunks } from '../helpers/ami-transcripts.js';
import { rawSession } from '../helpers/raw-ami.js';

const TEST_TIMEOUT = { timeout: 8000 };

/** The recorded bytes from the first of the three acks to the end of the busy DongleShowDevices listing. */
function recordedBusyListing(): Buffer {
  const all = Buffer.concat(serverChunks('chan-dongle-slow.txt'));
  const start = all.indexOf('Response: Success\r\nActionID: s-0\r\n');
  const end = all.indexOf('ListItems: 1\r\n\r\n', all.indexOf('ActionID: sd-busy')) + 'ListItems: 1\r\n\r\n'.length;
  return all.subarray(start, end);
}

describe('the simulator’s chan_dongle queue', () => {
  it('three SMS on a busy modem: the acks and DongleShowDevices are the recorded bytes (TasksInQueue 3, CommandsInQueue 5)', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({
      modems: [{ device: 'dongle0', imsi: '250990000000001', imei: '359999000000001', subscriberNumber: '+79990000001' }],
      delayPerPartMs: 60_000,
      authFailDelayMs: 10,
    });
    t.after(() => sim.close());
    const c = await rawSession(t, sim.port);
    // As written in the recording (its modem took 2 s per SMS; the listing came while the first was being sent).
    for (const i of [0, 1, 2]) {
      c.send(`Action: DongleSendSMS\r\nDevice: dongle0\r\nNumber: +7999000000${i}\r\nMessage: slow ${i}\r\nPayload: slow-${i}\r\nActionID: s-${i}\r\n\r\n`);
    }
    await c.waitFor((b) => b.includes('ActionID: s-2\r\nMessage: [dongle0] SMS queued for send\r\n\r\n'));
    c.send('Action: DongleShowDevices\r\nActionID: sd-busy\r\n\r\n');
    await c.waitFor((b) => b.includes('ListItems: 1\r\n\r\n'));
    assert.equal(c.bytes().toString('latin1'), recordedBusyListing().toString('latin1'));
  });

  it('Report: yes — TasksInQueue counts the parts down to 0 at the last submit, no event until the delivery report', TEST_TIMEOUT, async (t) => {
    const { sim, gw, events } = await harness(t, { delayPerPartMs: 400, deliveryReportDelayMs: null }, { deliveryReports: true });
    const text = 'a'.repeat(400); // three GSM-7 parts
    assert.deepEqual(await gw.submit({ messageId: 'dlr-1', device: 'dongle0', to: '+79990001111', text }), { kind: 'queued' });
    const counts: number[] = [];
    for (;;) {
      const modems = await gw.listModems('dongle0');
      assert.deepEqual(modems.map((m) => m.device), ['dongle0'], 'one device asked, one device answered');
      const queue = modems[0]!.queue;
      if (counts.at(-1) !== queue) counts.push(queue);
      if (queue === 0) break;
      assert.equal(events.reports('dlr-1').length, 0, 'no event while the SMS is still in the queue');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(sim.received.at(-1)?.headers.device, 'dongle0');
    // One task per part, each leaving at its submit (a poll delayed by a busy machine may miss a step).
    assert.equal(counts[0], 3);
    assert.ok(counts.every((n, i) => i === 0 || n < counts[i - 1]!), `counts only go down: ${counts.join(' → ')}`);
    assert.ok(counts.length >= 3, `parts leave one by one: ${counts.join(' → ')}`);
    assert.equal(sim.sent.at(-1)?.outcome, 'sent');
    assert.equal(events.reports('dlr-1').length, 0, 'Report: yes: no event when the modem submitted it');
    // The operator's status reports come in (here: when the test says so).
    assert.equal(sim.deliverReportsNow(), 1);
    const report = (await events.waitFor((e) => e.type === 'report' && e.messageId === 'dlr-1')) as Report;
    assert.deepEqual([report.reportType, report.success], [1, true]);
  });
});
