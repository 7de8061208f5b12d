import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { ComplianceService } from '../../src/compliance/compliance-service.js';
import { dialplanRetryDelaysMs, inboundRetryDelaysMs, routeGatewayEvents } from '../../src/gateway-events.js';
import type { NotificationsService } from '../../src/notifications/notifications-service.js';
import type { GatewayEvent, SmsGateway } from '../../src/modems/sms-gateway.js';

function gatewayWithListener(): { gateway: SmsGateway; emit(e: GatewayEvent): void } {
  let listener: ((e: GatewayEvent) => void) | null = null;
  const gateway = { subscribe: (l: (e: GatewayEvent) => void) => { listener = l; return () => { listener = null; }; } } as unknown as SmsGateway;
  return { gateway, emit: (e) => listener?.(e) };
}

test('an incoming SMS that cannot be stored yet (database down) is retried, not lost', async () => {
  const { gateway, emit } = gatewayWithListener();
  const waits: number[] = [];
  let calls = 0;
  const stored: string[] = [];
  const compliance = {
    receiveInbound: async (sms: { text: string }) => {
      calls++;
      if (calls < 3) throw new Error('connection terminated');
      stored.push(sms.text);
      return { id: 1, duplicate: false, optOut: true };
    },
  } as unknown as ComplianceService;
  const done = new Promise<void>((resolve) => {
    routeGatewayEvents(gateway, { compliance }, pino({ level: 'silent' }), async (ms) => { waits.push(ms); if (waits.length === 2) setImmediate(resolve); });
  });
  emit({ type: 'inbound-sms', device: 'dongle0', from: '+79161234567', text: 'СТОП' });
  await done;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(waits, inboundRetryDelaysMs.slice(0, 2));
  assert.deepEqual(stored, ['СТОП']);
});

test('after the last try the SMS is reported as lost, with the modem and a masked sender', async () => {
  const { gateway, emit } = gatewayWithListener();
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => { lines.push(l); } });
  const compliance = { receiveInbound: async () => { throw new Error('down'); } } as unknown as ComplianceService;
  let waits = 0;
  const gaveUp = new Promise<void>((resolve) => {
    routeGatewayEvents(gateway, { compliance }, log, async () => { waits++; });
    const timer = setInterval(() => { if (lines.some((l) => l.includes('inbound.lost'))) { clearInterval(timer); resolve(); } }, 1);
  });
  emit({ type: 'inbound-sms', device: 'dongle1', from: '+79161234567', text: 'СТОП' });
  await gaveUp;
  assert.equal(waits, inboundRetryDelaysMs.length);
  const lost = JSON.parse(lines.find((l) => l.includes('inbound.lost'))!) as { device: string; from: string };
  assert.deepEqual([lost.device, lost.from], ['dongle1', '+7916***67']);
});

test('a dialplan event met by a database failure is tried again, and counted once given up', async () => {
  const { gateway, emit } = gatewayWithListener();
  const compliance = {} as ComplianceService;
  let calls = 0;
  const handled: string[] = [];
  const lost: unknown[] = [];
  const notifications = {
    handleDialplanEvent: async (headers: Record<string, string>) => {
      calls++;
      if (headers.Phone === 'down' || calls < 2) throw new Error('connection terminated');
      handled.push(headers.Template!);
      return 'sent';
    },
    dialplanLost: (err: unknown) => { lost.push(err); },
  } as unknown as NotificationsService;
  const waits: number[] = [];
  routeGatewayEvents(gateway, { compliance, notifications }, pino({ level: 'silent' }), async (ms) => { waits.push(ms); });
  const settled = () => new Promise((r) => setTimeout(r, 5));

  emit({ type: 'user-event', name: 'SimcastNotify', headers: { Phone: '+79161234567', Template: 'missed-call' } } as GatewayEvent);
  await settled();
  assert.deepEqual(handled, ['missed-call']);
  assert.deepEqual(waits, dialplanRetryDelaysMs.slice(0, 1));
  assert.equal(lost.length, 0);

  waits.length = 0;
  emit({ type: 'user-event', name: 'SimcastNotify', headers: { Phone: 'down', Template: 'missed-call' } } as GatewayEvent);
  await settled();
  assert.deepEqual(waits, dialplanRetryDelaysMs);
  assert.equal(lost.length, 1, 'given up once, counted once');
});
