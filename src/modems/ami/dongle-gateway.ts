/**
 * {@link SmsGateway} over Asterisk + chan_dongle, via AMI — both generations (docs/ami-protocol.md §2.1):
 * - current (wdoekes master): Payload = our messageId, outcomes as DongleReport;
 * - classic (bg111 1.1.x, wdoekes before 2020): no Payload; the ack's `ID:` (a queue-task
 *   pointer, reused once the task is done) is mapped to our messageId and DongleSMSStatus is
 *   turned into the same `report` events (classic.ts). Text goes verbatim (no C-unescaping there),
 *   so line breaks, a leading blank and anything over one part are refused locally.
 * The generation is probed with DongleShowDevices right after every (re)connect, before
 * `connected` is emitted and before start() resolves; an ack can still correct it.
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
import type { GatewayEvent, GatewayGeneration, ModemInfo, SmsGateway, SubmitRequest, SubmitResult } from '../sms-gateway.js';
import { AmiUnsafeValueError, assertSafeAmiAction, escapeDongleMessage } from './ami-values.js';
import { ClassicCorrelator, classicAckId, classicTextProblem, describeClassicTextProblem, type ClassicStatusResult } from './classic.js';
import type { AmiMessage } from './frame.js';
import { AmiActionError, AmiConnection, type AmiConnectionEvent, type AmiConnectionOptions } from './connection.js';
import { countSegments } from '../../templates/segments.js';
import { detectGeneration, eventName, toGatewayEvent, toModemInfo, toSubmitResult, type DongleGeneration } from './dongle-events.js';

/** Options for {@link DongleGateway}: the connection's (timeouts, heartbeat, backoff) plus: */
export interface DongleGatewayOptions extends AmiConnectionOptions {
  /**
   * Ask for delivery reports (`Report: yes`). Default false: with `yes`, chan_dongle sends NO
   * "sent" event at all, only the Type 1 delivery report (or Type 2 on expiry), docs/ami-protocol.md §2.5.
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
  private readonly correlator: ClassicCorrelator;
  /** The generation probe of the current connection (DongleShowDevices), while it runs. */
  private probing: Promise<void> | null = null;

  constructor(options: DongleGatewayOptions) {
    this.options = options;
    this.log = options.log.child({ component: 'dongle-gateway' });
    this.correlator = new ClassicCorrelator({ now: () => Date.now() });
    this.connection = new AmiConnection({ ...options, log: this.log });
    this.connection.on((event) => this.onConnectionEvent(event));
  }

  /**
   * Connects and keeps reconnecting in the background until {@link close}. Resolves after the
   * first attempt: true if connected (a failure is logged, and retried with backoff). When true,
   * the generation probe has run, so {@link generation} is known unless chan_dongle listed no device.
   */
  async start(): Promise<boolean> {
    const connected = await this.connection.start();
    if (connected && this.probing) await this.probing;
    return connected;
  }

  /** The chan_dongle generation seen so far (null until a device entry or an ack tells). */
  generation(): GatewayGeneration | null {
    return this.detectedGeneration;
  }

  textProblem(text: string): string | null {
    if (this.detectedGeneration !== 'classic') return null;
    const problem = classicTextProblem(text);
    return problem ? describeClassicTextProblem(problem) : null;
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
    // Made only when something is logged: a queued send logs at debug, and a pino child costs
    // more than the rest of the submit's JavaScript (measured in bench/dispatch.ts).
    let child: Logger | undefined;
    const log = () => (child ??= this.log.child({ messageId: request.messageId, device: request.device }));
    const invalid = validate(request);
    if (invalid) {
      log().warn({ event: 'send.refused.local', result: invalid }, 'SMS refused before sending');
      return invalid;
    }
    // Right after a connect the probe may still run: the text must be encoded for the right build.
    if (this.detectedGeneration === null && this.probing) await this.probing;
    const isClassic = this.detectedGeneration === 'classic';
    if (isClassic) {
      const problem = classicTextProblem(request.text);
      if (problem) {
        const result: SubmitResult = { kind: 'refused', retryable: false, reason: describeClassicTextProblem(problem) };
        log().warn({ event: 'send.refused.classic', problem }, 'SMS refused: classic chan_dongle cannot send this text');
        return result;
      }
    }
    const fields = {
      Action: 'DongleSendSMS',
      Device: request.device,
      Number: request.to,
      // Classic builds take Message verbatim (no ast_unescape_c): escaping would show up as "\\".
      Message: isClassic ? request.text : escapeDongleMessage(request.text),
      Validity: this.options.validityMinutes === undefined ? undefined : String(this.options.validityMinutes),
      Report: (request.deliveryReport ?? this.options.deliveryReports) ? 'yes' : 'no',
      // Ignored by classic builds (they read only the headers they know); harmless there.
      Payload: request.messageId,
    };
    try {
      // Checked here too (the connection checks again) to map it to a precise refusal.
      assertSafeAmiAction(fields);
    } catch (err) {
      if (!(err instanceof AmiUnsafeValueError)) throw err;
      const retryable = err.header === 'Device'; // a bad device name is config, not the message
      log().warn({ event: 'send.refused.unsafe', header: err.header, problem: err.problem }, 'SMS refused: unsafe AMI value');
      return { kind: 'refused', retryable, reason: describeUnsafe(err) };
    }
    if (!this.connection.isConnected()) return { kind: 'refused', retryable: true, reason: NOT_CONNECTED };
    try {
      const response = await this.connection.sendAction(fields, {
        // In wire order, before any DongleSMSStatus behind the ack is handled.
        onResponse: (ack) => this.onSendResponse(ack, request, fields.Message, log),
      });
      const result = toSubmitResult(response, countSegments(request.text).parts);
      // At info one line per SMS is enough: the dispatcher logs its outcome (sent, failed, unknown).
      if (result.kind === 'queued') log().debug({ event: 'send.queued' }, 'SMS queued by chan_dongle');
      else log().warn({ event: 'send.refused', result }, 'chan_dongle refused the SMS');
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
      log().error({ event: 'send.uncertain', err }, 'SMS outcome unknown after writing DongleSendSMS');
      return { kind: 'uncertain', reason };
    }
  }

  /** The DongleSendSMS response, synchronously as parsed: generation, and the classic ID mapping. */
  private onSendResponse(ack: AmiMessage, request: SubmitRequest, sentMessage: string, log: () => Logger): void {
    const generation = detectGeneration(ack);
    this.noteGeneration(generation);
    if (generation !== 'classic') return;
    if (sentMessage !== request.text) {
      // Sent before the build was known, escaped for ast_unescape_c: the phone shows the escapes.
      log().warn({ event: 'send.classic.escaped' }, 'classic chan_dongle received C-escaped text (generation was not known yet)');
    }
    const id = classicAckId(ack);
    if (id === null) {
      log().error({ event: 'send.classic.no-id', id: ack.id }, 'classic ack without a usable ID: the outcome cannot be correlated');
      return;
    }
    const { replaced } = this.correlator.acked(request.device, id, request.messageId);
    if (replaced) {
      log().warn({ event: 'send.classic.id-reused', id, previousMessageId: replaced }, 'classic task ID reused before its final status was seen');
    }
    log().debug({ event: 'send.classic.acked', id }, 'classic ack ID mapped');
  }

  private onClassicResult(result: ClassicStatusResult, msg: AmiMessage): void {
    switch (result.kind) {
      case 'report':
        this.log.info({ event: 'send.report', messageId: result.event.messageId, success: result.event.success, reportType: result.event.reportType, classicId: msg.id }, 'DongleSMSStatus');
        return this.emit(result.event);
      case 'progress':
        return void this.log.debug({ event: 'send.classic.progress', messageId: result.messageId, status: result.status }, 'DongleSMSStatus progress');
      case 'unmatched':
        return void this.log.debug({ event: 'send.classic.unmatched', device: msg.device, id: msg.id, reason: result.reason }, 'DongleSMSStatus not ours');
    }
  }

  /** DongleShowDevices after a (re)connect: tells the generation before anything is sent. */
  private probe(): Promise<void> {
    return this.listModems().then(
      (modems) => {
        this.log.info({ event: 'ami.dongle.probed', generation: this.detectedGeneration, devices: modems.length }, 'chan_dongle probed');
      },
      (err: unknown) => {
        this.log.warn({ event: 'ami.dongle.probe.failed', err: err instanceof Error ? err.message : String(err) }, 'DongleShowDevices failed; generation unknown until an ack');
      },
    );
  }

  /** DongleShowDevices (of one `device`, if given) → one {@link ModemInfo} per device. Rejects when not connected. */
  async listModems(device?: string): Promise<ModemInfo[]> {
    if (!this.connection.isConnected()) throw new Error(NOT_CONNECTED);
    const { response, items } = await this.connection.sendListAction({ Action: 'DongleShowDevices', Device: device });
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
      case 'connected': {
        // Probe first, so listeners of `connected` already see generation().
        const probing = this.probe().then(() => {
          if (this.probing === probing) this.probing = null;
          if (this.connection.isConnected()) this.emit({ type: 'connected' });
        });
        this.probing = probing;
        return;
      }
      case 'disconnected':
        return this.emit({ type: 'disconnected', reason: event.reason });
      case 'login-failed':
        return; // logged by the connection; isConnected() stays false and retries go on
      case 'event': {
        const name = eventName(event.message);
        if (name === 'donglesmsstatus') {
          this.noteGeneration('classic');
          return this.onClassicResult(this.correlator.status(event.message), event.message);
        }
        if (name === 'donglestatus' && (event.message.status ?? '').toLowerCase() === 'disconnect') {
          // chan_dongle flushed the device's queue: those tasks end without a status, IDs freed.
          const dropped = this.correlator.forgetDevice(event.message.device ?? '');
          if (dropped.length > 0) {
            this.log.warn({ event: 'send.classic.flushed', device: event.message.device, messageIds: dropped }, 'device dropped: classic sends in its queue end without a status');
          }
        }
        const mapped = toGatewayEvent(event.message);
        if (!mapped) return;
        if (mapped.type === 'report') {
          // At debug: the dispatcher logs the state the report leads to (send.sent, send.failed…) at
          // info, and each line costs the PBX CPU (masking, writing) on every SMS.
          this.log.debug({ event: 'send.report', messageId: mapped.messageId, success: mapped.success, reportType: mapped.reportType }, 'DongleReport');
        }
        return this.emit(mapped);
      }
    }
  }

  private noteGeneration(generation: DongleGeneration | null): void {
    if (!generation || generation === this.detectedGeneration) return;
    this.detectedGeneration = generation;
    if (generation === 'classic') {
      this.log.warn({ event: 'ami.dongle.classic' }, 'classic chan_dongle detected: single-part SMS only, no line breaks; outcomes via DongleSMSStatus');
    } else {
      this.log.info({ event: 'ami.dongle.current' }, 'current chan_dongle detected');
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
