/**
 * Classic chan_dongle (bg111 1.1.x; wdoekes before 2020) support: text rules and the
 * `DongleSendSMS` ack `ID:` ↔ `DongleSMSStatus` correlation (docs/ami-protocol.md §2.1).
 *
 * Classic builds have no Payload and no DongleReport. The ack to DongleSendSMS is
 *   Response: Success / Message: [dev] SMS queued for send / ID: 0x55d1c0a8e0c0
 * where ID is the `%p` of chan_dongle's AT queue task (bg111 manager.c: `"[%s] %s\r\nID: %p"`),
 * and the outcome comes later as
 *   Event: DongleSMSStatus / Device: dev / ID: 0x55d1c0a8e0c0 / Status: Sent|NotSent
 * (wdoekes 2015–2020 also `Sending` and `Delivered`, with `ForeignID: <TP-MR>`), with no ActionID.
 * The ID is a heap pointer: once the task completes it is freed and the NEXT task very often gets
 * the same address. So the key is (device, ID), a mapping lives from the ack to the first final
 * status and no longer, and a status that can't be matched is never guessed onto a message.
 *
 * This file is pure (no I/O); the clock is injected.
 */
import { countSegments } from '../../templates/segments.js';
import type { GatewayEvent } from '../sms-gateway.js';
import type { AmiMessage } from './frame.js';

/**
 * Longest classic single part. UCS-2: 70 UTF-16 units (PDU and text mode alike). GSM-7: 140
 * characters — text mode (`smsaspdu=no`) refuses more than 140 ("SMS message too long, 140
 * symbols max", bg111 at_command.c), PDU mode would take 160 septets, and simcast can't see which
 * mode is configured, so it keeps to the limit that holds in both.
 */
export const CLASSIC_MAX_GSM7_SEPTETS = 140;
export const CLASSIC_MAX_UCS2_UNITS = 70;

/** Why a text can't go through a classic chan_dongle, as chan_dongle would mangle or refuse it. */
export type ClassicTextProblem =
  /** Over one SMS part: classic builds cannot concatenate (refused, or cut by the modem). */
  | { kind: 'multipart'; encoding: 'gsm7' | 'ucs2'; length: number; limit: number }
  /**
   * A line break: classic builds don't C-unescape Message, so `\n` would reach the phone as a
   * backslash and an "n", and a raw LF can't be written to AMI at all (it would end the action).
   */
  | { kind: 'line-break' }
  /** A leading blank: Asterisk's header parser drops it, and classic builds have no `\ ` escape. */
  | { kind: 'leading-space' };

/**
 * Checks a text for a classic build; null when it can be sent unchanged as ONE part.
 * Use it to flag messages before a campaign starts when {@link SmsGateway.generation} is 'classic'.
 * We refuse rather than alter the text (join lines, trim): the recipient must read what was approved.
 */
export function classicTextProblem(text: string): ClassicTextProblem | null {
  if (/[\r\n]/.test(text)) return { kind: 'line-break' };
  if (/^[ \t]/.test(text)) return { kind: 'leading-space' };
  const count = countSegments(text);
  const limit = count.encoding === 'gsm7' ? CLASSIC_MAX_GSM7_SEPTETS : CLASSIC_MAX_UCS2_UNITS;
  if (count.length > limit) return { kind: 'multipart', encoding: count.encoding, length: count.length, limit };
  return null;
}

/** Russian reason for a {@link ClassicTextProblem} (shown to staff as the message's error). */
export function describeClassicTextProblem(problem: ClassicTextProblem): string {
  switch (problem.kind) {
    case 'multipart':
      return problem.encoding === 'gsm7'
        ? `старый chan_dongle отправляет только одну SMS: не больше ${problem.limit} латинских символов, а в тексте ${problem.length}`
        : `старый chan_dongle отправляет только одну SMS: не больше ${problem.limit} символов кириллицей, а в тексте ${problem.length}`;
    case 'line-break':
      return 'старый chan_dongle не передаёт переводы строк: уберите их из текста';
    case 'leading-space':
      return 'старый chan_dongle теряет пробел в начале текста: уберите его';
  }
}

/** The queue-task pointer from a classic ack, or null (current build, `(nil)`, 0, junk). */
export function classicAckId(response: AmiMessage): string | null {
  const id = (response.id ?? '').trim().toLowerCase();
  if (!/^0x[0-9a-f]+$/.test(id) || /^0x0+$/.test(id)) return null;
  return id;
}

/** Options for {@link ClassicCorrelator}. */
export interface ClassicCorrelatorOptions {
  /** Milliseconds, monotonic enough for TTLs. */
  now: () => number;
  /**
   * A mapping whose final status never came (lost while AMI was down, queue flushed without a
   * device event) is forgotten after this. Default 24 h.
   */
  mappingTtlMs?: number;
  /** Remembered TP-MR → message mappings for `Delivered` (per gateway). Default 10 000. */
  maxForeignIds?: number;
}

/** Outcome of feeding one `DongleSMSStatus` to the correlator. */
export type ClassicStatusResult =
  | { kind: 'report'; event: Extract<GatewayEvent, { type: 'report' }> }
  /** Matched, not final (`Sending`): nothing to tell the dispatcher. */
  | { kind: 'progress'; messageId: string; status: string }
  /** Not ours, or no longer matchable (stale, foreign AMI client, CLI send). */
  | { kind: 'unmatched'; reason: string };

interface Mapping { messageId: string; device: string; id: string; at: number }

const key = (device: string, id: string) => `${device}\u0000${id.toLowerCase()}`;

/**
 * (device, ID) ↔ messageId bookkeeping for classic builds; see the module comment.
 *
 * The gateway calls {@link acked} (synchronously, in wire order — AmiConnection's `onResponse`)
 * when the ack is parsed, {@link status} per DongleSMSStatus, {@link forgetDevice} when chan_dongle
 * reports the device disconnected (its queue is flushed, those IDs are freed without a status).
 *
 * A status with no mapping is never kept for later: on one TCP stream chan_dongle writes a task's
 * ack before that task can finish, so a status that arrives before "its" ack belongs to another,
 * earlier task whose freed ID the next send reuses (e.g. a send whose ack timed out). Attaching it
 * to the new send would settle a message that has not been sent yet.
 */
export class ClassicCorrelator {
  private readonly now: () => number;
  private readonly mappingTtlMs: number;
  private readonly maxForeignIds: number;
  private readonly byId = new Map<string, Mapping>();
  private readonly byForeignId = new Map<string, Mapping>();

  constructor(options: ClassicCorrelatorOptions) {
    this.now = options.now;
    this.mappingTtlMs = options.mappingTtlMs ?? 24 * 3600_000;
    this.maxForeignIds = options.maxForeignIds ?? 10_000;
  }

  /** Number of live (device, ID) mappings (for tests and status pages). */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Our send's ack with its task ID: registers the mapping. A mapping already on that key is a
   * task whose final status we never saw (its ID was freed and reused): it is replaced, and
   * returned as `replaced` so the caller can log it.
   */
  acked(device: string, id: string, messageId: string): { replaced: string | null } {
    this.prune();
    const k = key(device, id);
    const previous = this.byId.get(k);
    this.byId.set(k, { messageId, device, id: id.toLowerCase(), at: this.now() });
    return { replaced: previous && previous.messageId !== messageId ? previous.messageId : null };
  }

  /** Maps one `DongleSMSStatus` event. */
  status(msg: AmiMessage): ClassicStatusResult {
    const device = msg.device ?? '';
    const id = (msg.id ?? '').trim().toLowerCase();
    const status = (msg.status ?? '').trim();
    const foreignId = (msg.foreignid ?? '').trim();
    if (device === '' || id === '' || status === '') return { kind: 'unmatched', reason: 'DongleSMSStatus without Device/ID/Status' };
    const k = key(device, id);
    const s = status.toLowerCase();

    if (s === 'delivered') {
      // Only through the TP-MR learnt from our `Sent`: by then the task ID is free and may already
      // belong to the next message, so matching on it would mark an unsent message delivered.
      const fk = foreignId === '' ? null : key(device, foreignId);
      const mapping = fk ? this.byForeignId.get(fk) : undefined;
      if (!fk || !mapping) return { kind: 'unmatched', reason: `Delivered for ${device}/${id}${foreignId ? ` MR ${foreignId}` : ''}: no Sent of ours with that TP-MR` };
      this.byForeignId.delete(fk);
      return report(mapping, true, 1, `DongleSMSStatus Delivered (TP-MR ${foreignId})`);
    }

    const mapping = this.byId.get(k);
    if (!mapping) return { kind: 'unmatched', reason: `${status} for ${device}/${id}: no send of ours` };
    switch (s) {
      case 'sending':
        return { kind: 'progress', messageId: mapping.messageId, status };
      case 'sent':
        this.byId.delete(k); // final for this task: the ID is free for the next one from here on
        if (foreignId !== '') this.rememberForeign(key(device, foreignId), mapping);
        return report(mapping, true, 0, '');
      case 'notsent':
        this.byId.delete(k);
        return report(mapping, false, 0, 'модем не отправил SMS (DongleSMSStatus NotSent)');
      default:
        return { kind: 'unmatched', reason: `unknown DongleSMSStatus Status ${JSON.stringify(status)}` };
    }
  }

  /** chan_dongle dropped the device and flushed its queue: its tasks end without a status. */
  forgetDevice(device: string): string[] {
    const dropped: string[] = [];
    for (const [k, m] of this.byId) {
      if (m.device === device) {
        dropped.push(m.messageId);
        this.byId.delete(k);
      }
    }
    return dropped;
  }

  private rememberForeign(k: string, mapping: Mapping): void {
    this.byForeignId.delete(k); // re-insert at the end (TP-MR wraps at 256: newest wins)
    this.byForeignId.set(k, { ...mapping, at: this.now() });
    while (this.byForeignId.size > this.maxForeignIds) {
      const oldest = this.byForeignId.keys().next().value;
      if (oldest === undefined) break;
      this.byForeignId.delete(oldest);
    }
  }

  private prune(): void {
    const now = this.now();
    for (const [k, m] of this.byId) if (now - m.at > this.mappingTtlMs) this.byId.delete(k);
    for (const [k, m] of this.byForeignId) if (now - m.at > this.mappingTtlMs) this.byForeignId.delete(k);
  }
}

function report(mapping: Mapping, success: boolean, reportType: 0 | 1, detail: string): ClassicStatusResult {
  return {
    kind: 'report',
    event: { type: 'report', messageId: mapping.messageId, device: mapping.device, success, reportType, detail },
  };
}
