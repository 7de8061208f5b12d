/**
 * {@link SmsGateway} over Asterisk + chan_dongle (current wdoekes generation), via AMI.
 *
 * The one rule this file exists for: an SMS must never go out twice. chan_dongle's ack means
 * "queued in RAM", and the only correlation is `Payload` ↔ `DongleReport`. So:
 * - not connected BEFORE writing → `refused` (retryable): nothing left this process;
 * - `Response: Error` → `refused`: chan_dongle queued nothing;
 * - an ack timeout or a connection loss AFTER writing → `uncertain`: chan_dongle may well have
 *   queued it. This adapter never resends; the dispatcher waits for a report or gives up.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { GatewayEvent, ModemInfo, SmsGateway, SubmitRequest, SubmitResult } from '../sms-gateway.js';
import { AmiUnsafeValueError, assertSafeAmiAction, escapeDongleMessage } from './ami-values.js';
import { AmiActionError, AmiConnection, type AmiConnectionEvent, type AmiConnectionOptions } from './connection.js';
import { detectGeneration, eventName, toGatewayEvent, toModemInfo, toSubmitResult, type DongleGeneration } from './dongle-events.js';

/** Options for {@link DongleGateway}: the connection's (timeouts, heartbeat, backoff) plus: */
export interface DongleGatewayOptions extends AmiConnectionOptions {
  /**
   * Ask for delivery reports (`Report: yes`). Default false: with `yes`, chan_dongle sends NO
   * "sent" event at all, only the Type 1 delivery report (or Type 2 on expiry), doc §2.5.
   */
  deliveryReports?: boolean;
  /** `Validity` in minutes (chan_dongle default 4320 = 3 days; also its local expiry timer). */
  validityMinutes?: number;
}

const NOT_CONNECTED = 'AMI не подключен';
// chan_dongle stores Payload in sqlite with a 4096-byte cap.
const MAX_PAYLOAD_BYTES = 4096;

/** chan_dongle over AMI; see the module comment for the duplicate-send rules. */
export class DongleGateway implements SmsGateway {
  private readonly connection: AmiConnection;
  private readonly log: Logger;
  private readonly listeners = new Set<(event: GatewayEvent) => void>();
  private readonly options: DongleGatewayOptions;
  private detectedGeneration: DongleGeneration | null = null;

  constructor(options: DongleGatewayOptions) {
    this.options = options;
    this.log = options.log.child({ component: 'dongle-gateway' });
    this.connection = new AmiConnection({ ...options, log: this.log });
    this.connection.on((event) => this.onConnectionEvent(event));
  }

  /**
   * Connects and keeps reconnecting in the background until {@link close}. Resolves after the
   * first attempt: true if connected (a failure is logged, and retried with backoff).
   */
  start(): Promise<boolean> {
    return this.connection.start();
  }

  /** The chan_dongle generation seen so far (null until an ack or a device entry tells). */
  get generation(): DongleGeneration | null {
    return this.detectedGeneration;
  }

  /** The last connection/login failure, e.g. "Authentication failed". */
  get lastError(): string | null {
    return this.connection.lastError;
  }

  isConnected(): boolean {
    return this.connection.isConnected();
  }

  subscribe(listener: (event: GatewayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends DongleSendSMS once. Never throws; see {@link SubmitResult} for the meaning of each kind. */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const log = this.log.child({ messageId: request.messageId, device: request.device });
    const invalid = validate(request);
    if (invalid) {
      log.warn({ event: 'send.refused.local', result: invalid }, 'SMS refused before sending');
      return invalid;
    }
    const fields = {
      Action: 'DongleSendSMS',
      Device: request.device,
      Number: request.to,
      Message: escapeDongleMessage(request.text),
      Validity: this.options.validityMinutes === undefined ? undefined : String(this.options.validityMinutes),
      Report: this.options.deliveryReports ? 'yes' : 'no',
      Payload: request.messageId,
    };
    try {
      // Checked here too (the connection checks again) to map it to a precise refusal.
      assertSafeAmiAction(fields);
    } catch (err) {
      if (!(err instanceof AmiUnsafeValueError)) throw err;
      const retryable = err.header === 'Device'; // a bad device name is config, not the message
      log.warn({ event: 'send.refused.unsafe', header: err.header, problem: err.problem }, 'SMS refused: unsafe AMI value');
      return { kind: 'refused', retryable, reason: describeUnsafe(err) };
    }
    if (!this.connection.isConnected()) return { kind: 'refused', retryable: true, reason: NOT_CONNECTED };
    try {
      const response = await this.connection.sendAction(fields);
      this.noteGeneration(detectGeneration(response));
      const result = toSubmitResult(response);
      if (result.kind === 'queued') log.info({ event: 'send.queued' }, 'SMS queued by chan_dongle');
      else log.warn({ event: 'send.refused', result }, 'chan_dongle refused the SMS');
      return result;
    } catch (err) {
      if (err instanceof AmiActionError && !err.written) {
        return { kind: 'refused', retryable: true, reason: NOT_CONNECTED };
      }
      // Written (timeout / connection lost) — or something unexpected: we can't prove it wasn't
      // queued, so it is uncertain, and it must not be resent automatically.
      const reason = err instanceof AmiActionError
        ? `нет ответа от AMI (${err.code}): SMS могло быть поставлено в очередь, повторно не отправляется`
        : `ошибка при отправке в AMI: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ event: 'send.uncertain', err }, 'SMS outcome unknown after writing DongleSendSMS');
      return { kind: 'uncertain', reason };
    }
  }

  /** DongleShowDevices → one {@link ModemInfo} per device. Rejects when not connected. */
  async listModems(): Promise<ModemInfo[]> {
    if (!this.connection.isConnected()) throw new Error(NOT_CONNECTED);
    const { response, items } = await this.connection.sendListAction({ Action: 'DongleShowDevices' });
    if ((response.response ?? '').toLowerCase() !== 'success') {
      throw new Error(`DongleShowDevices: ${response.message ?? response.response ?? 'no response'}`);
    }
    const modems: ModemInfo[] = [];
    for (const item of items) {
      if (eventName(item) !== 'dongledeviceentry') continue;
      this.noteGeneration(detectGeneration(item));
      const modem = toModemInfo(item);
      if (modem) modems.push(modem);
    }
    return modems;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private onConnectionEvent(event: AmiConnectionEvent): void {
    switch (event.type) {
      case 'connected':
        return this.emit({ type: 'connected' });
      case 'disconnected':
        return this.emit({ type: 'disconnected', reason: event.reason });
      case 'login-failed':
        return; // logged by the connection; isConnected() stays false and retries go on
      case 'event': {
        const mapped = toGatewayEvent(event.message);
        if (!mapped) return;
        if (mapped.type === 'report') {
          this.log.info({ event: 'send.report', messageId: mapped.messageId, success: mapped.success, reportType: mapped.reportType }, 'DongleReport');
        }
        return this.emit(mapped);
      }
    }
  }

  private noteGeneration(generation: DongleGeneration | null): void {
    if (!generation || generation === this.detectedGeneration) return;
    this.detectedGeneration = generation;
    if (generation === 'classic') {
      // Classic chan_dongle: no Payload, no DongleReport, no unescaping — reports will never come.
      this.log.error({ event: 'ami.dongle.classic' }, 'classic chan_dongle detected: DongleReport/Payload unsupported, upgrade to wdoekes master');
    }
  }

  private emit(event: GatewayEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ event: 'gateway.listener.error', err }, 'gateway event listener threw');
      }
    }
  }
}

/** Checks chan_dongle would refuse anyway, done locally (no AMI round trip, no odd bytes sent). */
function validate(request: SubmitRequest): SubmitResult | null {
  if (request.device === '') return { kind: 'refused', retryable: true, reason: 'Device not specified' };
  if (!/^\+?[0-9]+$/.test(request.to)) return { kind: 'refused', retryable: false, reason: 'Invalid phone number' };
  if (request.text === '') return { kind: 'refused', retryable: false, reason: 'Message not specified' };
  if (request.messageId === '' || Buffer.byteLength(request.messageId, 'utf8') > MAX_PAYLOAD_BYTES) {
    return { kind: 'refused', retryable: false, reason: 'messageId must be 1..4096 bytes (Payload)' };
  }
  return null;
}

function describeUnsafe(err: AmiUnsafeValueError): string {
  if (err.problem === 'line-too-long' && err.header === 'Message') {
    return 'текст слишком длинный для одной строки AMI (~1000 байт UTF-8)';
  }
  return `недопустимое значение ${err.header} для AMI (${err.problem})`;
}
