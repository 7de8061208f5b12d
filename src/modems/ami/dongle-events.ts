/**
 * chan_dongle's AMI messages → simcast's domain (pure).
 *
 * Input is an {@link AmiMessage} (lower-case keys, as frame.ts and connection.ts produce).
 * Every event field is untrusted text (values arrive unescaped; an alphanumeric SMS sender can
 * contain anything), so nothing here interprets values beyond what the domain needs.
 */
import type { AmiMessage } from './frame.js';
import type { GatewayEvent, GatewayGeneration, ModemInfo, SubmitResult } from '../sms-gateway.js';

/** Which chan_dongle is installed (docs/ami-protocol.md §2.1). Only `current` has Payload + DongleReport. */
export type DongleGeneration = GatewayGeneration;

/** Lower-case event name of a message, or null for responses. */
export function eventName(msg: AmiMessage): string | null {
  const name = msg.event;
  return name === undefined ? null : name.toLowerCase();
}

/**
 * Maps an unsolicited event to a {@link GatewayEvent}, or null if simcast doesn't care.
 * - DongleReport → `report` (messageId = Payload; Type 0 sent/refused, 1 delivery, 2 expired).
 *   A report with an empty Payload (CLI / dialplan sends, or someone else's AMI client) is
 *   ignored: it can't be ours, every submit carries our messageId.
 * - DongleStatus → `modem-status`.
 * - DongleNewSMSBase64 → `inbound-sms`. DongleNewSMS is IGNORED on purpose: it is the lossy
 *   duplicate of the same SMS (split on CR/LF, empty lines dropped); handling both would double
 *   every inbound message (a STOP counted twice is harmless, a reply shown twice is not).
 * - UserEvent (the dialplan's `UserEvent(Name,Key: value,…)`) → `user-event` with its body headers.
 */
export function toGatewayEvent(msg: AmiMessage): GatewayEvent | null {
  switch (eventName(msg)) {
    case 'donglereport':
      return toReport(msg);
    case 'donglestatus': {
      const device = msg.device ?? '';
      const status = msg.status ?? '';
      if (device === '' || status === '') return null;
      return { type: 'modem-status', device, status };
    }
    case 'donglenewsmsbase64':
      return toInboundSms(msg);
    case 'userevent':
      return toUserEvent(msg);
    default:
      return null;
  }
}

function toReport(msg: AmiMessage): GatewayEvent | null {
  const messageId = msg.payload ?? '';
  if (messageId === '') return null;
  const type = Number(msg.type);
  if (type !== 0 && type !== 1 && type !== 2) return null;
  const success = msg.success === '1';
  const device = msg.device ?? '';
  return {
    type: 'report',
    messageId,
    // For Type 2 this is whichever modem purged the row, not necessarily the sender (docs/ami-protocol.md §2.5).
    device,
    success,
    reportType: type,
    detail: describeDongleReport(type, success, msg),
  };
}

/**
 * A person-readable `detail` for a DongleReport (the dispatcher puts it in the message's error):
 * - Type 0: '' on success; on failure, that the modem refused a part (other parts may still go out);
 * - Type 1: the verdict per part from the TP-Status list (`Report: 000,064,`, decimal, one per
 *   part; 0x40 = permanent error), then the raw fields;
 * - Type 2: that no final result came within Validity, and which modem purged the row.
 */
export function describeDongleReport(type: 0 | 1 | 2, success: boolean, msg: AmiMessage): string {
  const raw = [
    msg.report ? `report=${msg.report}` : '',
    msg.scts ? `scts=${msg.scts}` : '',
    msg.dt ? `dt=${msg.dt}` : '',
  ].filter(Boolean).join(' ');
  if (type === 0) return success ? '' : 'модем отклонил SMS (+CMS ERROR); остальные части могли уйти';
  if (type === 2) {
    return `нет итогового отчёта за время Validity (строка smsdb удалена модемом ${msg.device || '?'}, не обязательно отправителем)`;
  }
  const statuses = parseTpStatuses(msg.report ?? '');
  const verdict = describeTpStatuses(statuses);
  return [verdict, raw].filter(Boolean).join('; ');
}

/** `000,064,` → [0, 64]; non-numeric items are skipped. */
export function parseTpStatuses(report: string): number[] {
  return report.split(',').map((s) => s.trim()).filter((s) => /^\d{1,3}$/.test(s)).map(Number);
}

/** Short verdict for a Type 1 report's parts, e.g. "часть 2 из 2: TP-Status 64 (0x40), постоянная ошибка: remote procedure error". */
export function describeTpStatuses(statuses: number[]): string {
  if (statuses.length === 0) return '';
  const bad = statuses.map((st, i) => ({ st, i })).filter(({ st }) => (st & 0x40) !== 0 || (st & 0x20) !== 0);
  if (bad.length === 0) return statuses.length === 1 ? 'доставлено' : `доставлено (частей: ${statuses.length})`;
  return bad.map(({ st, i }) => {
    const kind = (st & 0x40) !== 0 ? 'постоянная ошибка' : 'временная ошибка';
    const hex = `0x${st.toString(16).padStart(2, '0')}`;
    const label = tpStatusName(st);
    return `часть ${i + 1} из ${statuses.length}: TP-Status ${st} (${hex}), ${kind}${label ? `: ${label}` : ''}`;
  }).join('; ');
}

// 3GPP TS 23.040 §9.2.3.15, by the low 5 bits within each class (0x20/0x60 temporary, 0x40 permanent).
const TEMPORARY = ['congestion', 'SME busy', 'no response from SME', 'service rejected', 'quality of service not available', 'error in SME'];
const PERMANENT = ['remote procedure error', 'incompatible destination', 'connection rejected by SME', 'not obtainable',
  'quality of service not available', 'no interworking available', 'SM validity period expired', 'SM deleted by originating SME',
  'SM deleted by SC administration', 'SM does not exist'];

function tpStatusName(st: number): string | null {
  const low = st & 0x1f;
  if ((st & 0x60) === 0x60 || (st & 0x60) === 0x20) return TEMPORARY[low] ?? null;
  if ((st & 0x60) === 0x40) return PERMANENT[low] ?? null;
  return null;
}

/**
 * Headers Asterisk puts on every channel event before a UserEvent's own (test/fixtures/ami/
 * chan-dongle-incoming.txt has one on the wire), plus `SystemName` when asterisk.conf sets it.
 * A UserEvent body header of the same name loses to the channel's (the first duplicate wins in
 * AMI), so a dialplan should not name its own headers like these.
 */
const CHANNEL_HEADERS = new Set([
  'event', 'privilege', 'systemname', 'channel', 'channelstate', 'channelstatedesc', 'calleridnum', 'calleridname',
  'connectedlinenum', 'connectedlinename', 'language', 'accountcode', 'context', 'exten', 'priority', 'uniqueid',
  'linkedid', 'chanvariable', 'userevent', 'actionid',
]);

function toUserEvent(msg: AmiMessage): GatewayEvent | null {
  const name = msg.userevent ?? '';
  if (name === '') return null;
  const headers = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(msg)) if (!CHANNEL_HEADERS.has(key)) headers[key] = value;
  return { type: 'user-event', name, headers };
}

function toInboundSms(msg: AmiMessage): GatewayEvent | null {
  const device = msg.device ?? '';
  const from = msg.from ?? '';
  const text = decodeBase64Utf8(msg.message ?? '');
  if (device === '' || text === null) return null;
  return { type: 'inbound-sms', device, from, text };
}

/** Strict base64 → UTF-8; null if it isn't base64 (Buffer.from would silently skip junk). */
export function decodeBase64Utf8(b64: string): string | null {
  const clean = b64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  return new TextDecoder('utf-8').decode(Buffer.from(clean, 'base64'));
}

/**
 * chan_dongle `State` values in which the device can't send (docs/ami-protocol.md §2.4, "Sendable device").
 */
const DEAD_STATES = new Set(['stopped', 'not connected', 'not initialized', 'gsm not registered']);

/** True if a device in this State / GSMRegistrationStatus can take an SMS now. */
export function isSendable(state: string, registration: string): boolean {
  return !DEAD_STATES.has(state.trim().toLowerCase()) && registration.trim().startsWith('Registered');
}

function orNull(value: string | undefined, ...placeholders: string[]): string | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || placeholders.includes(v)) return null;
  return v;
}

/** Maps one `DongleDeviceEntry` list item to {@link ModemInfo}; null if it has no Device. */
export function toModemInfo(msg: AmiMessage): ModemInfo | null {
  const device = msg.device ?? '';
  if (device === '') return null;
  const state = msg.state ?? '';
  const registration = msg.gsmregistrationstatus ?? '';
  const queue = Number.parseInt(msg.tasksinqueue ?? '0', 10);
  return {
    device,
    imsi: orNull(msg.imsistate),
    imei: orNull(msg.imeistate),
    state,
    registration,
    signal: orNull(msg.rssi),
    // chan_dongle prints "NONE" when no operator is known.
    operator: orNull(msg.providername, 'NONE'),
    queue: Number.isFinite(queue) ? queue : 0,
    ready: isSendable(state, registration),
  };
}

/**
 * Reasons in `Response: Error` to DongleSendSMS that blame the MESSAGE: the same message would
 * fail on any modem, so retrying is pointless. Everything else (device disconnected/not found/
 * disabled, queue or SMSDB error, permission or module problems, unknown texts) blames the
 * device or the PBX: nothing was queued — Response: Error guarantees that — so a retry (on this
 * or another modem, later) can't create a duplicate and may succeed.
 */
const MESSAGE_FAULTS = [
  'invalid phone number',
  // Classic builds (bg111 helpers.c): the number check, and at_enque_sms() failing — which there
  // means the text is over one part or can't be converted; the same text fails on any modem.
  'invalid destination number',
  'error adding sms commands to queue',
  'cannot parse utf-8',
  'input too large',
  'number not specified',
  'message not specified',
];

/** Strips chan_dongle's `[device] ` prefix from an error/ack message. */
export function stripDevicePrefix(message: string): string {
  return message.replace(/^\[[^\]]*\]\s*/, '');
}

/** True if a DongleSendSMS error reason is worth retrying (see {@link MESSAGE_FAULTS}). */
export function isRetryableSendError(reason: string): boolean {
  const r = stripDevicePrefix(reason).toLowerCase();
  return !MESSAGE_FAULTS.some((fault) => r.startsWith(fault));
}

// Errors chan_dongle raises before it touches its queue (device checks, AMI permissions).
const BEFORE_QUEUEING = ['device not found', 'device disbaled', 'device disabled', 'device disconnected', 'device not connected', 'no such device', 'permission denied', 'invalid/unknown command'];

/**
 * Maps the response to DongleSendSMS to a {@link SubmitResult}.
 * `Response: Success` means only "queued in chan_dongle's RAM"; the outcome comes as DongleReport.
 * `parts`: chan_dongle queues a long SMS part by part, and an error while queueing part 2 or later
 * (Queue error, out of memory) comes back as `Response: Error` with the earlier parts already
 * queued and going out. For a multi-part message only errors raised before queueing are a safe
 * refusal; any other is `uncertain`, never retried.
 */
export function toSubmitResult(response: AmiMessage, parts = 1): SubmitResult {
  const kind = (response.response ?? '').toLowerCase();
  const message = response.message ?? '';
  if (kind === 'success') return { kind: 'queued' };
  const reason = message === '' ? `AMI ${response.response ?? 'no response'}` : message;
  const retryable = isRetryableSendError(reason);
  const beforeQueueing = BEFORE_QUEUEING.some((e) => stripDevicePrefix(reason).toLowerCase().startsWith(e));
  if (parts > 1 && retryable && !beforeQueueing) {
    return { kind: 'uncertain', reason: `${reason}: часть длинного SMS могла уже уйти, повторно не отправляется` };
  }
  return { kind: 'refused', retryable, reason };
}

/**
 * Detects the chan_dongle generation from a DongleSendSMS ack (an `ID:` header: classic) or a
 * DongleDeviceEntry (an `SMSPDU:` field: classic). Returns null if the message doesn't tell.
 */
export function detectGeneration(msg: AmiMessage): DongleGeneration | null {
  if (eventName(msg) === 'dongledeviceentry') return 'smspdu' in msg ? 'classic' : 'current';
  if ((msg.response ?? '').toLowerCase() === 'success' && /SMS queued for send/i.test(msg.message ?? '')) {
    return 'id' in msg ? 'classic' : 'current';
  }
  return null;
}
