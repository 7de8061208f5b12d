import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freeAtAfterSend, modemsReadyToSend, nextWakeDelayMs, type ModemSlot } from '../../src/dispatcher/policy.js';
import type { ModemInfo } from '../../src/modems/sms-gateway.js';

const now = new Date('2026-11-26T10:00:00Z');
const modem = (device: string, ready = true): ModemInfo => ({ device, imsi: null, imei: null, state: ready ? 'Free' : 'Not connected', registration: 'Registered, home network', signal: null, operator: null, queue: 0, ready });

test('only ready modems with nothing in flight and their pause over take a message', () => {
  const slots = new Map<string, ModemSlot>([
    ['dongle1', { inFlight: 7, freeAt: now }],
    ['dongle2', { inFlight: null, freeAt: new Date(now.getTime() + 1000) }],
    ['dongle3', { inFlight: null, freeAt: now }],
  ]);
  const modems = [modem('dongle3'), modem('dongle2'), modem('dongle1'), modem('dongle0'), modem('dongle4', false)];
  assert.deepEqual(modemsReadyToSend(modems, slots, now), ['dongle0', 'dongle3']);
  assert.deepEqual(modemsReadyToSend(modems, slots, new Date(now.getTime() + 1000)), ['dongle0', 'dongle2', 'dongle3']);
});

test('the pause after a send, and how long the loop may sleep', () => {
  assert.equal(freeAtAfterSend(now, 20).getTime() - now.getTime(), 20_000);
  const slots = new Map<string, ModemSlot>([
    ['a', { inFlight: 1, freeAt: now }],
    ['b', { inFlight: null, freeAt: new Date(now.getTime() + 400) }],
  ]);
  assert.equal(nextWakeDelayMs(slots, now, 1000), 400);
  assert.equal(nextWakeDelayMs(new Map(), now, 1000), 1000);
});
