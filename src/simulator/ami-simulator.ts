/**
 * A chan_dongle-over-AMI simulator: a REAL TCP server (node:net) that speaks AMI as strictly as
 * Asterisk 18 + wdoekes chan_dongle does in test/fixtures/ami/*.txt (docs/ami-protocol.md).
 *
 * It deliberately does NOT reuse src/modems/ami/frame.ts or ami-values.ts: it has its own line
 * reader, header lookup and C unescaping, so a bug in the client-side code can't be mirrored here
 * and hide. Strictness that matters for simcast's safety:
 * - CRLF and bare LF both end a line (so an injected LF really does start a new header/action);
 * - a line whose end isn't within Asterisk's 1024-byte input buffer is discarded and the action is
 *   NOT executed (`Failed to parse message: line too long`);
 * - everything but Login/Logoff/Challenge gets `Permission denied` before login;
 * - a wrong secret gets `Authentication failed` after a delay, then the socket is closed.
 *
 * Control API (for tests and `npm run simulator`): {@link AmiSimulator.start}, per-device
 * {@link AmiSimulator.setMode} / {@link AmiSimulator.setDelay}, {@link AmiSimulator.failNumbers},
 * {@link AmiSimulator.injectIncomingSms}, {@link AmiSimulator.dropConnections},
 * {@link AmiSimulator.refuseLoginsFor}, {@link AmiSimulator.deliveryStatuses},
 * {@link AmiSimulator.expireNow}, {@link AmiSimulator.deliverReportsNow}, the records {@link AmiSimulator.sent} and
 * {@link AmiSimulator.received}, and {@link AmiSimulator.close}.
 *
 * Two chan_dongle generations (option `generation`, docs/ami-protocol.md §2.1):
 * - `current` (default; wdoekes master): Payload, Message C-unescaped, concatenation, DongleReport
 *   (Type 0 sent/refused; with `Report: yes` no Type 0 on success but Type 1 once every part's
 *   status report is in — `Success: 0` if a part has TP-Status bit 0x40 — or Type 2 when the
 *   smsdb row outlives Validity; see {@link AmiSimulator.deliveryStatuses} / `msPerValidityMinute`);
 *   `TasksInQueue` in DongleShowDevices counts one task per part still to submit, so with
 *   `Report: yes` it is the only sign that an SMS left the modem (it drops at the last `+CMGS`);
 * - `classic` (bg111 1.1.x): the ack carries `ID: 0x55d1c0a8…` (the AT task's pointer, freed and
 *   REUSED by the next task once this one completes), outcomes come as `DongleSMSStatus`
 *   (Status Sent/NotSent; with `Report: yes` also `ForeignID` and a later `Delivered`), Message is
 *   taken verbatim (no unescaping), texts over one PDU (160 GSM-7 septets / 70 UCS-2) are refused
 *   with bg111's "Error adding SMS commands to queue" (helpers.c send_sms → at_enque_sms failing),
 *   errors carry bg111's texts and an `ID: (nil)` line, and DongleDeviceEntry has `SMSPDU:`.
 */
import net from 'node:net';
import { countSegments } from '../templates/segments.js';
import { buildDeliverPdus, SIM_SMSC } from './sms-pdu.js';

/**
 * What a simulated modem does with the next SMS:
 * - `ok`: transmits it (delay per part), then `DongleReport` Success 1 (Type 0, or only Type 1
 *   later when `Report: yes`);
 * - `fail`: the modem refuses it (+CMS ERROR) → `DongleReport` Success 0 Type 0;
 * - `hang`: the modem never answers: no report ever; after `atTimeoutMs` chan_dongle drops the
 *   device (DongleStatus Free, Disconnect; queue flushed SILENTLY), and it comes back after
 *   `reconnectAfterMs` (Connect, Register, Initialize) healthy, in mode `ok` — as in
 *   chan-dongle-hang.txt;
 * - `disconnected`: the device is gone: sends get `[dev] Device disconnected`, State
 *   `Not connected`. Setting another mode brings it back (Connect, Register, Initialize).
 */
export type SimModemMode = 'ok' | 'fail' | 'hang' | 'disconnected';

/** A simulated modem (one dongle.conf section). */
export interface SimModemOptions {
  /** dongle.conf section name, e.g. "dongle0". */
  device: string;
  imsi: string;
  imei?: string;
  operator?: string;
  /** The SIM's own number (SubscriberNumber). */
  subscriberNumber?: string;
  /** Milliseconds the modem needs per SMS part. Default: the simulator's `delayPerPartMs`. */
  delayPerPartMs?: number;
  mode?: SimModemMode;
}

/** Options for {@link AmiSimulator.start}. */
export interface AmiSimulatorOptions {
  modems: SimModemOptions[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port; read it from `.port`). */
  port?: number;
  /** Default "simcast". */
  username?: string;
  /** Default "simcast". */
  secret?: string;
  /** Asterisk waits 1 s before answering a failed login. Default 1000; use ~20 in tests. */
  authFailDelayMs?: number;
  /** Default per-part transmit time. Default 50. */
  delayPerPartMs?: number;
  /**
   * Extra time before a Type 1 delivery report (`Report: yes`). Default 50. `null`: held until
   * {@link AmiSimulator.deliverReportsNow} (a report seconds to days late, or never).
   */
  deliveryReportDelayMs?: number | null;
  /** chan_dongle's AT timeout before a hung modem is dropped (40 s for real). Default 40000. */
  atTimeoutMs?: number;
  /** How long a dropped (hung) modem stays away before rediscovery. Default 14000. */
  reconnectAfterMs?: number;
  /** Optional line logger (the standalone runner prints; tests stay quiet). */
  log?: (line: string) => void;
  /** Which chan_dongle to behave like (see the module comment). Default 'current'. */
  generation?: SimGeneration;
  /**
   * Real milliseconds per Validity minute for the smsdb expiry (Type 2, current builds).
   * Default 60000 (real time); e.g. 20 with `Validity: 1` expires after 20 ms.
   */
  msPerValidityMinute?: number;
}

/** Options for {@link AmiSimulator.injectIncomingSms}. */
export interface InjectSmsOptions {
  /** Deliver the same SMS this many times (a SIM re-read after a modem restart). Default 1. */
  times?: number;
  /** Concatenation reference (0–255). Default: a counter that increments per injected SMS. */
  ref?: number;
  /** The service-centre time stamp in the PDU. Default: now. */
  at?: Date;
}

/** chan_dongle generation the simulator plays (docs/ami-protocol.md §2.1). */
export type SimGeneration = 'current' | 'classic';

/** What became of an SMS the modem worked on. */
export type SimSmsOutcome = 'sent' | 'failed' | 'hung';

/** One SMS the simulated modem worked on (transmitted, refused, or hung on). */
export interface SimSentSms {
  device: string;
  number: string;
  /** The text as the recipient would read it (after chan_dongle's unescaping). */
  text: string;
  payload: string;
  parts: number;
  at: Date;
  outcome: SimSmsOutcome;
}

/** One action the server received and parsed (whatever happened to it). */
export interface SimReceivedAction {
  /** The `Action` header as sent ('' if missing). */
  action: string;
  /** Headers, lower-case keys, first occurrence wins; values as Asterisk would see them. */
  headers: Record<string, string>;
  /** False when the action was not executed (line too long, too many lines). */
  executed: boolean;
}

interface Job {
  number: string;
  text: string;
  payload: string;
  parts: number;
  report: boolean;
  /** Validity in minutes (chan_dongle: missing/0/invalid → 4320). */
  validity: number;
  /** Classic: the task "pointer" returned in the ack and DongleSMSStatus. */
  taskId: string | null;
}

/** A current-build smsdb row waiting for its final result (Report: yes). */
interface SmsdbRow {
  device: string;
  payload: string;
  timer: NodeJS.Timeout | null;
}

interface Modem {
  opts: SimModemOptions;
  mode: SimModemMode;
  delayPerPartMs: number;
  queue: Job[];
  current: Job | null;
  /** Date.now() when `current` started and its time per part: parts leave the queue one by one. */
  currentSince: number;
  currentPartMs: number;
  jobTimer: NodeJS.Timeout | null;
  connected: boolean;
}

interface Session {
  socket: net.Socket;
  buffer: Buffer;
  headers: Buffer[];
  tooLong: boolean;
  tooManyLines: boolean;
  discarding: boolean;
  authenticated: boolean;
  eventsOn: boolean;
  closing: boolean;
}

/** Asterisk's request buffer is 1025 bytes (1024 usable): a line's LF must fall within it. */
const INPUT_BUFFER_BYTES = 1024;
const MAX_HEADERS = 128;
const BANNER = 'Asterisk Call Manager/7.0.3\r\n';

/** A running simulator. Create it with {@link AmiSimulator.start}; always {@link AmiSimulator.close} it. */
export class AmiSimulator {
  /** The TCP port it listens on. */
  port = 0;
  readonly host: string;
  /** Every SMS a modem worked on, in order; tests look for duplicates here. */
  readonly sent: SimSentSms[] = [];
  /** Every action received, in order (WireMock-style). */
  readonly received: SimReceivedAction[] = [];
  /** Numbers whose SMS any modem refuses (DongleReport Success 0), e.g. "+79990000666". */
  readonly failNumbers = new Set<string>();
  /** When true, DongleSendSMS is executed but its ack is never written (an "ack lost" test). */
  swallowSendAcks = false;
  /** When false, Ping actions get no answer at all (a hung Asterisk, for heartbeat tests). */
  answerPings = true;
  /**
   * TP-Status per part of the delivery reports for a number (decimal, as in `Report: 000,064,`;
   * the last value repeats for further parts). Unset → 0 (delivered). Bit 0x40 (e.g. 64) is a
   * permanent error → Type 1 `Success: 0`; bit 0x20 alone (e.g. 32–37) is temporary: chan_dongle
   * keeps waiting, so no Type 1 comes and the row expires (Type 2) after Validity.
   */
  readonly deliveryStatuses = new Map<string, number[]>();
  /** The generation this simulator plays. */
  readonly generation: SimGeneration;
  /**
   * Delay of Type 1 delivery reports for SMS transmitted from now on (see the option of that name);
   * `null` holds them until {@link AmiSimulator.deliverReportsNow}.
   */
  deliveryReportDelayMs: number | null;

  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly modems = new Map<string, Modem>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly opts: Required<Omit<AmiSimulatorOptions, 'log' | 'modems' | 'port' | 'deliveryReportDelayMs'>> & { log?: (line: string) => void };
  private refuseLoginsUntil = 0;
  private closed = false;
  /** Current builds: smsdb rows awaiting a delivery report, by payload. */
  private readonly smsdb = new Map<string, SmsdbRow>();
  /** Delivery reports held back (`deliveryReportDelayMs` null), by payload (classic: device and TP-MR). */
  private readonly heldReports = new Map<string, () => void>();
  /** Classic: freed task "pointers", reused LIFO like a malloc free list. */
  private readonly freeTaskIds: string[] = [];
  private nextTaskId = 0;
  /** Classic: TP-MR counter (0–255) for ForeignID. */
  private nextMr = 0;
  /** Uniqueid counter of injected UserEvents' channels. */
  private nextUniqueId = 100;
  /** Concatenation reference of the next injected inbound SMS (0–255). */
  private nextSmsRef = 0;

  private constructor(options: AmiSimulatorOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.opts = {
      host: this.host,
      username: options.username ?? 'simcast',
      secret: options.secret ?? 'simcast',
      authFailDelayMs: options.authFailDelayMs ?? 1000,
      delayPerPartMs: options.delayPerPartMs ?? 50,
      atTimeoutMs: options.atTimeoutMs ?? 40_000,
      reconnectAfterMs: options.reconnectAfterMs ?? 14_000,
      generation: options.generation ?? 'current',
      msPerValidityMinute: options.msPerValidityMinute ?? 60_000,
      ...(options.log ? { log: options.log } : {}),
    };
    this.generation = this.opts.generation;
    this.deliveryReportDelayMs = options.deliveryReportDelayMs === undefined ? 50 : options.deliveryReportDelayMs;
    for (const m of options.modems) {
      const mode = m.mode ?? 'ok';
      this.modems.set(m.device, {
        opts: m,
        mode,
        delayPerPartMs: m.delayPerPartMs ?? this.opts.delayPerPartMs,
        queue: [],
        current: null,
        currentSince: 0,
        currentPartMs: 0,
        jobTimer: null,
        connected: mode !== 'disconnected',
      });
    }
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Starts listening (127.0.0.1, port 0 by default) and resolves once it does. */
  static async start(options: AmiSimulatorOptions): Promise<AmiSimulator> {
    const sim = new AmiSimulator(options);
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(options.port ?? 0, sim.host, () => {
        sim.server.off('error', reject);
        resolve();
      });
    });
    const address = sim.server.address();
    sim.port = typeof address === 'object' && address ? address.port : 0;
    return sim;
  }

  // ---------------------------------------------------------------- control API

  /** Changes what a modem does with the next SMS (see {@link SimModemMode}). */
  setMode(device: string, mode: SimModemMode): void {
    const modem = this.modem(device);
    const previous = modem.mode;
    modem.mode = mode;
    if (mode === 'disconnected' && modem.connected) this.disconnectModem(modem);
    if (mode !== 'disconnected' && previous === 'disconnected' && !modem.connected) this.reconnectModem(modem);
  }

  /** Sets a modem's transmit time per SMS part. */
  setDelay(device: string, delayPerPartMs: number): void {
    this.modem(device).delayPerPartMs = delayPerPartMs;
  }

  /**
   * Simulates an inbound SMS exactly as chan_dongle reports it (chan-dongle-incoming.txt,
   * docs/ami-protocol.md §2.6), to every logged-in session with events on:
   * 1. one `DongleNewCMGR` per part, each in its own write: `Message: +CMGR: <stat>,,<len>\r\n<PDU>`
   *    where `\r\n` is the two-character escape (backslash, r, backslash, n) as chan_dongle prints
   *    it, `<len>` the TPDU length and `<PDU>` an SMS-DELIVER in hex (UCS-2, 67 units per part
   *    beyond 70, concatenation UDH with a reference that increments per SMS; src/simulator/sms-pdu.ts);
   * 2. `DongleNewSMS` (lossy: split on CR/LF, empty lines dropped) followed by its EXTRA blank line;
   * 3. `DongleNewSMSBase64` (the exact UTF-8 text). For a one-part SMS 2 and 3 go in one write,
   *    for a concatenated one in two, as recorded.
   *
   * `from` may be `+digits`, plain digits (a short code like "900") or alphanumeric ("MegaFon"):
   * the PDU then carries address type 0x91, 0x81 or 0xD0 (GSM-7, at most 11 characters), and the
   * `From:` header the string as given.
   *
   * Duplicates: `times: 2` (or more) re-delivers the SAME SMS — identical PDUs (same reference and
   * time stamp; `+CMGR: 1` = REC READ after the first read) and events — like a modem re-reading its
   * SIM after a restart with autodeletesms=no. Calling this twice with the same arguments is instead
   * a second SMS with the same text (new reference, new time stamp). Both yield events a client
   * must tell apart itself. Returns the PDUs (hex) of one delivery, for tests.
   */
  injectIncomingSms(device: string, from: string, text: string, options: InjectSmsOptions = {}): string[] {
    this.modem(device);
    const times = options.times ?? 1;
    const ref = options.ref ?? this.nextSmsRef;
    this.nextSmsRef = (ref + 1) % 256;
    const pdus = buildDeliverPdus(from, text, { ref, at: options.at ?? new Date() });
    const lines = text.split(/\r\n|\r|\n/).filter((l) => l !== '');
    const lossy: Array<[string, string]> = [
      ['Event', 'DongleNewSMS'], ['Privilege', 'call,all'], ['Device', device], ['From', from],
      ['LineCount', String(lines.length)],
      ...lines.map((l, i): [string, string] => [`MessageLine${i}`, l]),
    ];
    const b64: Array<[string, string]> = [
      ['Event', 'DongleNewSMSBase64'], ['Privilege', 'call,all'], ['Device', device], ['From', from],
      ['Message', Buffer.from(text, 'utf8').toString('base64')],
    ];
    for (let n = 0; n < times; n++) {
      for (const pdu of pdus) {
        // chan_dongle prints the raw AT line with its CR LF C-escaped: literally "\r\n".
        this.broadcast([['Event', 'DongleNewCMGR'], ['Privilege', 'call,all'], ['Device', device],
          ['Message', `+CMGR: ${n === 0 ? 0 : 1},,${pdu.tpduLength}\\r\\n${pdu.hex}`]]);
      }
      // The stray "\r\n" follows DongleNewSMS in the same write.
      if (pdus.length === 1) {
        this.broadcastRaw(`${encode(lossy)}\r\n${encode(b64)}`);
      } else {
        this.broadcastRaw(`${encode(lossy)}\r\n`);
        this.broadcastRaw(encode(b64));
      }
    }
    this.opts.log?.(`[${device}] inbound SMS, ${pdus.length} part(s)${times > 1 ? ` x${times}` : ''}`);
    return pdus.map((p) => p.hex);
  }

  /**
   * A dialplan `UserEvent(name,Key: value,…)` as Asterisk writes it (the shape recorded in
   * test/fixtures/ami/chan-dongle-incoming.txt): `Event: UserEvent`, `Privilege: user,all`, the
   * channel's headers, `UserEvent: <name>`, then the body headers in order. Values are written
   * verbatim (a test may put control characters or 5000 characters in them). `channel` overrides
   * channel headers (e.g. `CallerIDNum`).
   */
  injectUserEvent(name: string, headers: Record<string, string> | Array<[string, string]>, channel: Record<string, string> = {}): void {
    const n = this.nextUniqueId++;
    const uniqueid = `1795668943.${n}`;
    const base: Record<string, string> = {
      Channel: `SIP/office-${String(n).padStart(8, '0')}`,
      ChannelState: '6',
      ChannelStateDesc: 'Up',
      CallerIDNum: '<unknown>',
      CallerIDName: '<unknown>',
      ConnectedLineNum: '<unknown>',
      ConnectedLineName: '<unknown>',
      Language: 'en',
      AccountCode: '',
      Context: 'from-trunk',
      Exten: 'h',
      Priority: '1',
      Uniqueid: uniqueid,
      Linkedid: uniqueid,
      ...channel,
    };
    const body = Array.isArray(headers) ? headers : Object.entries(headers);
    this.broadcast([['Event', 'UserEvent'], ['Privilege', 'user,all'], ...Object.entries(base), ['UserEvent', name], ...body]);
    this.opts.log?.(`UserEvent ${name}`);
  }

  /** Abruptly closes every AMI session (like an Asterisk restart or a network cut). */
  dropConnections(): void {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
  }

  /** Makes every login fail (as with a wrong secret) for the next `ms` milliseconds. */
  refuseLoginsFor(ms: number): void {
    this.refuseLoginsUntil = Date.now() + ms;
  }

  /**
   * Current builds: expires smsdb rows awaiting a delivery report now (all, or the one with this
   * payload), as chan_dongle's purge does after Validity → `DongleReport` Success 0 Type 2.
   * Returns how many expired.
   */
  expireNow(payload?: string): number {
    let n = 0;
    for (const row of [...this.smsdb.values()]) {
      if (payload !== undefined && row.payload !== payload) continue;
      this.expireRow(row);
      n++;
    }
    return n;
  }

  /**
   * Current builds: sends the held delivery reports now (all, or the one with this payload), as
   * when the operator's status reports finally come in. Returns how many were sent.
   */
  deliverReportsNow(payload?: string): number {
    let n = 0;
    for (const [key, deliver] of [...this.heldReports]) {
      if (payload !== undefined && key !== payload) continue;
      this.heldReports.delete(key);
      deliver();
      n++;
    }
    return n;
  }

  /** Current builds: payloads still awaiting a final delivery result. */
  get awaitingReports(): string[] {
    return [...this.smsdb.keys()];
  }

  /** Number of currently open AMI sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A modem's current mode. */
  modeOf(device: string): SimModemMode {
    return this.modem(device).mode;
  }

  /** Stops everything: timers, sessions, the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heldReports.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const m of this.modems.values()) if (m.jobTimer) clearTimeout(m.jobTimer);
    for (const row of this.smsdb.values()) if (row.timer) clearTimeout(row.timer);
    this.smsdb.clear();
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- sessions and framing

  private accept(socket: net.Socket): void {
    if (this.closed) { socket.destroy(); return; }
    socket.setNoDelay(true);
    const session: Session = {
      socket, buffer: Buffer.alloc(0), headers: [], tooLong: false, tooManyLines: false,
      discarding: false, authenticated: false, eventsOn: true, closing: false,
    };
    this.sessions.add(session);
    socket.on('data', (chunk: Buffer) => this.onData(session, chunk));
    socket.on('error', () => { /* a client reset is normal here */ });
    socket.on('close', () => this.sessions.delete(session));
    socket.write(BANNER);
  }

  private onData(s: Session, chunk: Buffer): void {
    if (s.closing) return;
    s.buffer = Buffer.concat([s.buffer, chunk]);
    for (;;) {
      const lf = s.buffer.indexOf(0x0a);
      if (lf < 0) {
        if (s.buffer.length >= INPUT_BUFFER_BYTES) {
          // No line end within Asterisk's buffer: the line is discarded, the action poisoned.
          s.tooLong = true;
          s.discarding = true;
          s.buffer = Buffer.alloc(0);
        }
        return;
      }
      const raw = s.buffer.subarray(0, lf);
      s.buffer = s.buffer.subarray(lf + 1);
      if (s.discarding) { s.discarding = false; continue; }
      if (lf >= INPUT_BUFFER_BYTES) { s.tooLong = true; continue; }
      // CRLF or bare LF end a line; a CR elsewhere stays in the value.
      const line = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
      if (line.length === 0) {
        this.endOfMessage(s);
        if (s.closing) return;
      } else if (s.headers.length < MAX_HEADERS) {
        s.headers.push(Buffer.from(line));
      } else {
        s.tooManyLines = true;
      }
    }
  }

  private endOfMessage(s: Session): void {
    const headers = s.headers;
    const tooLong = s.tooLong;
    const tooMany = s.tooManyLines;
    s.headers = [];
    s.tooLong = false;
    s.tooManyLines = false;
    const m = new Message(headers);
    const record: SimReceivedAction = { action: m.get('Action'), headers: m.all(), executed: !tooLong && !tooMany };
    this.received.push(record);
    if (tooMany) return this.reply(s, m, 'Error', 'Too many lines in message or allocation failure');
    if (tooLong) return this.reply(s, m, 'Error', 'Failed to parse message: line too long');
    this.processAction(s, m);
  }

  private processAction(s: Session, m: Message): void {
    const action = m.get('Action');
    const name = action.toLowerCase();
    if (action === '') return this.reply(s, m, 'Error', 'Missing action in request');
    if (!s.authenticated && name !== 'login' && name !== 'logoff' && name !== 'challenge') {
      return this.reply(s, m, 'Error', 'Permission denied');
    }
    switch (name) {
      case 'login': return this.login(s, m);
      case 'logoff':
        this.reply(s, m, 'Goodbye', 'Thanks for all the fish.');
        s.closing = true;
        s.socket.end();
        return;
      case 'ping':
        if (!this.answerPings) return;
        return this.write(s, [['Response', 'Success'], ...m.actionIdHeader(), ['Ping', 'Pong'],
          ['Timestamp', (Date.now() / 1000).toFixed(6)]]);
      case 'events': {
        const mask = m.get('EventMask').toLowerCase();
        s.eventsOn = mask !== 'off' && mask !== '';
        return this.write(s, [['Response', 'Success'], ...m.actionIdHeader(), ['Events', s.eventsOn ? 'On' : 'Off']]);
      }
      case 'dongleshowdevices': return this.showDevices(s, m);
      case 'donglesendsms': return this.sendSms(s, m);
      default:
        return this.reply(s, m, 'Error', `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`);
    }
  }

  private login(s: Session, m: Message): void {
    const ok = m.get('Username') === this.opts.username && m.get('Secret') === this.opts.secret
      && Date.now() >= this.refuseLoginsUntil;
    if (ok) {
      s.authenticated = true;
      this.reply(s, m, 'Success', 'Authentication accepted');
      this.write(s, [['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Uptime', '18'],
        ['LastReload', '18'], ['Status', 'Fully Booted']]);
      return;
    }
    // Asterisk sleeps 1 s before answering, then closes the session; nothing else is processed.
    s.closing = true;
    this.later(this.opts.authFailDelayMs, () => {
      this.reply(s, m, 'Error', 'Authentication failed');
      s.socket.end();
    });
  }

  // ---------------------------------------------------------------- chan_dongle actions

  private showDevices(s: Session, m: Message): void {
    const only = m.get('Device');
    const list = [...this.modems.values()].filter((d) => only === '' || d.opts.device === only);
    const id = m.actionIdHeader();
    let out = encode([['Response', 'Success'], ...id, ['EventList', 'start'], ['Message', 'Device status list will follow']]);
    for (const d of list) out += encode([['Event', 'DongleDeviceEntry'], ...id, ...this.deviceEntry(d)]);
    out += encode([['Event', 'DongleShowDevicesComplete'], ...id, ['EventList', 'Complete'], ['ListItems', String(list.length)]]);
    this.writeRaw(s, out);
  }

  private deviceEntry(d: Modem): Array<[string, string]> {
    const up = d.connected;
    const o = d.opts;
    const tasks = this.tasksInQueue(d);
    return [
      ['Device', o.device], ['AudioSetting', '/dev/ttyUSB1'], ['DataSetting', '/dev/ttyUSB2'],
      ['IMEISetting', ''], ['IMSISetting', ''], ['ChannelLanguage', 'en'], ['Context', 'dongle-incoming'],
      ['Exten', '+1234567890'], ['Group', '0'], ['RXGain', '0'], ['TXGain', '0'], ['U2DIAG', '-1'],
      ['UseCallingPres', 'Yes'], ['DefaultCallingPres', 'Presentation Allowed, Passed Screen'],
      ['AutoDeleteSMS', 'Yes'], ['DisableSMS', 'No'], ['ResetDongle', 'Yes'], ['CallWaitingSetting', 'auto'],
      ['DTMF', 'off'], ['MinimalDTMFGap', '45'], ['MinimalDTMFDuration', '80'], ['MinimalDTMFInterval', '200'],
      ['State', up ? 'Free' : 'Not connected'], ['AudioState', '/dev/ttyUSB1'], ['DataState', '/dev/ttyUSB2'],
      ['Voice', up ? 'Yes' : 'No'], ['SMS', up ? 'Yes' : 'No'], ['Manufacturer', up ? 'huawei' : ''],
      ['Model', up ? 'E1550' : ''], ['Firmware', up ? '11.608.12.02.21' : ''],
      ['IMEIState', up ? (o.imei ?? '359999000000001') : ''], ['IMSIState', up ? o.imsi : ''],
      ['GSMRegistrationStatus', up ? 'Registered, home network' : 'Unknown'],
      ['RSSI', up ? '20, -73 dBm' : '0, <= -113 dBm'], ['Mode', 'No Service'], ['Submode', 'No service'],
      ['ProviderName', up ? (o.operator ?? 'SimNet') : 'NONE'], ['LocationAreaCode', up ? '"1A2B"' : ''],
      ['CellID', up ? '"00C0FF' : ''], ['SubscriberNumber', up ? (o.subscriberNumber ?? 'Unknown') : 'Unknown'],
      ['SMSServiceCenter', up ? SIM_SMSC : ''],
      // Classic builds print the smsaspdu setting (gone in current builds, wdoekes#60).
      ...(this.generation === 'classic' ? [['SMSPDU', 'Yes'] as [string, string]] : []),
      ['UseUCS2Encoding', 'No'],
      // Each part is one AT task of two commands (AT+CMGS=n, then the PDU): the running task has
      // had its prompt and waits for the PDU's OK, as in chan-dongle-slow.txt (3 tasks, 5 commands).
      ['TasksInQueue', String(tasks)], ['CommandsInQueue', String(tasks > 0 ? 2 * tasks - 1 : 0)],
      ['CallWaitingState', 'Disabled'], ['CurrentDeviceState', up ? 'start' : 'stop'],
      ['DesiredDeviceState', 'start'], ['CallsChannels', '0'], ['Active', '0'], ['Held', '0'],
      ['Dialing', '0'], ['Alerting', '0'], ['Incoming', '0'], ['Waiting', '0'], ['Releasing', '0'],
      ['Initializing', '0'],
    ];
  }

  /**
   * chan_dongle's TasksInQueue: one AT task per SMS part, each leaving the queue at its `+CMGS`
   * (at_queue_remove), so a long SMS counts down part by part and reaches 0 at the last submit —
   * with `Report: yes` that is the only sign that it left the modem (docs/ami-protocol.md §2.5b).
   */
  private tasksInQueue(d: Modem): number {
    let tasks = d.queue.reduce((n, job) => n + job.parts, 0);
    if (d.current) {
      const done = d.currentPartMs > 0 ? Math.floor((Date.now() - d.currentSince) / d.currentPartMs) : 0;
      tasks += Math.max(1, d.current.parts - done);
    }
    return tasks;
  }

  private sendSms(s: Session, m: Message): void {
    if (this.generation === 'classic') return this.sendSmsClassic(s, m);
    const device = m.get('Device');
    const number = m.get('Number');
    const rawMessage = m.getBytes('Message');
    if (device === '') return this.reply(s, m, 'Error', 'Device not specified');
    if (number === '') return this.reply(s, m, 'Error', 'Number not specified');
    if (rawMessage.length === 0) return this.reply(s, m, 'Error', 'Message not specified');
    const fail = (msg: string) => this.reply(s, m, 'Error', `[${device}] ${msg}`);
    const modem = this.modems.get(device);
    // The recorded chan_dongle answers "Device disconnected" for an unknown device too.
    if (!modem || !modem.connected) return fail('Device disconnected');
    if (!/^\+?[0-9]+$/.test(number)) return fail('Invalid phone number');
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(rawMessage);
    } catch {
      return fail('Cannot parse UTF-8');
    }
    const text = unescapeC(decoded);
    const parts = countSegments(text).parts;
    if (parts > 255) return fail('Input too large');
    const job: Job = {
      number, text, payload: m.get('Payload'), parts, report: isAstTrue(m.get('Report')),
      validity: parseValidity(m.get('Validity')), taskId: null,
    };
    modem.queue.push(job);
    if (!this.swallowSendAcks) this.reply(s, m, 'Success', `[${device}] SMS queued for send`);
    this.pump(modem);
  }

  /**
   * bg111 manager_send_sms(): the reply is `[dev] <msg>\r\nID: %p` for success AND failure (on
   * failure msgid was never set: we print glibc's "(nil)"). Texts from bg111 helpers.c.
   */
  private sendSmsClassic(s: Session, m: Message): void {
    const device = m.get('Device');
    const number = m.get('Number');
    const message = m.get('Message'); // verbatim: classic builds don't ast_unescape_c
    if (device === '') return this.reply(s, m, 'Error', 'Device not specified');
    if (number === '') return this.reply(s, m, 'Error', 'Number not specified');
    if (message === '') return this.reply(s, m, 'Error', 'Message not specified');
    const answer = (ok: boolean, msg: string, id: string) =>
      this.write(s, [['Response', ok ? 'Success' : 'Error'], ...m.actionIdHeader(), ['Message', `[${device}] ${msg}`], ['ID', id]]);
    if (!/^\+?[0-9*#]+$/.test(number)) return answer(false, 'Invalid destination number', '(nil)');
    const modem = this.modems.get(device);
    if (!modem) return answer(false, 'no such device', '(nil)');
    if (!modem.connected) return answer(false, 'Device not connected / initialized / registered', '(nil)');
    const count = countSegments(message);
    // One PDU only (classic pdu_build → -E2BIG beyond 160 septets GSM-7 / 70 units UCS-2).
    if (count.length > (count.encoding === 'gsm7' ? 160 : 70)) return answer(false, 'Error adding SMS commands to queue', '(nil)');
    const taskId = this.allocTaskId();
    modem.queue.push({
      number, text: message, payload: '', parts: 1, report: isAstTrue(m.get('Report')),
      validity: parseValidity(m.get('Validity')), taskId,
    });
    if (!this.swallowSendAcks) answer(true, 'SMS queued for send', taskId);
    this.pump(modem);
  }

  /** A task "pointer": the most recently freed one first (malloc reuses it), else a fresh one. */
  private allocTaskId(): string {
    const reused = this.freeTaskIds.pop();
    if (reused) return reused;
    return `0x${(0x55d1c0a8e000 + 0x60 * this.nextTaskId++).toString(16)}`;
  }

  private freeTaskId(job: Job): void {
    if (job.taskId) this.freeTaskIds.push(job.taskId);
  }

  /** One SMS at a time per device, FIFO, like chan_dongle's per-device AT queue. */
  private pump(modem: Modem): void {
    if (modem.current || !modem.connected || this.closed) return;
    const job = modem.queue.shift();
    if (!job) return;
    modem.current = job;
    modem.currentSince = Date.now();
    modem.currentPartMs = modem.mode === 'hang' ? 0 : modem.delayPerPartMs;
    const device = modem.opts.device;
    if (this.generation === 'current') this.openRow(device, job);
    if (modem.mode === 'hang') {
      this.record(device, job, 'hung');
      modem.jobTimer = setTimeout(() => {
        modem.jobTimer = null;
        this.disconnectModem(modem);
        this.later(this.opts.reconnectAfterMs, () => {
          modem.mode = 'ok';
          this.reconnectModem(modem);
        });
      }, this.opts.atTimeoutMs);
      return;
    }
    const fails = modem.mode === 'fail' || this.failNumbers.has(job.number);
    // A refusal comes on the first part's +CMS ERROR; a success after the last part.
    const delay = modem.delayPerPartMs * (fails ? 1 : job.parts);
    modem.jobTimer = setTimeout(() => {
      modem.jobTimer = null;
      modem.current = null;
      this.record(device, job, fails ? 'failed' : 'sent');
      if (this.generation === 'classic') this.finishClassic(device, job, fails);
      else this.finishCurrent(device, job, fails);
      this.pump(modem);
    }, delay);
  }

  /** Current builds: the Type 0 result, or (Report: yes) the delivery report later. */
  private finishCurrent(device: string, job: Job, fails: boolean): void {
    if (fails || !job.report) {
      this.closeRow(job.payload);
      this.emitReport(device, job.payload, !fails, 0, '');
      return;
    }
    // Report: yes → no "sent" event at all; only the delivery report (Type 1) later, once EVERY
    // part has a final status; a temporary error (0x20 without 0x40) keeps chan_dongle waiting.
    const statuses = this.statusesFor(job.number, job.parts);
    if (statuses.some((st) => (st & 0x40) === 0 && (st & 0x20) !== 0)) return; // expires (Type 2)
    const deliver = () => {
      if (!this.smsdb.has(job.payload)) return; // expired meanwhile
      this.closeRow(job.payload);
      const permanent = statuses.some((st) => (st & 0x40) !== 0);
      this.emitReport(device, job.payload, !permanent, 1, statuses.map((st) => `${String(st).padStart(3, '0')},`).join(''));
    };
    if (this.deliveryReportDelayMs === null) this.heldReports.set(job.payload, deliver);
    else this.later(this.deliveryReportDelayMs, deliver);
  }

  /** Classic builds: DongleSMSStatus Sent/NotSent for the task; the task's pointer is freed. */
  private finishClassic(device: string, job: Job, fails: boolean): void {
    const id = job.taskId ?? '(nil)';
    this.freeTaskId(job); // the task is done: the next one may get the same pointer
    if (fails) return this.emitSmsStatus(device, id, 'NotSent');
    if (!job.report) return this.emitSmsStatus(device, id, 'Sent');
    const mr = String(this.nextMr++ % 256);
    this.emitSmsStatus(device, id, 'Sent', mr);
    const statuses = this.statusesFor(job.number, 1);
    if ((statuses[0] ?? 0) & 0x60) return; // classic builds report only a successful delivery
    const deliver = () => this.emitSmsStatus(device, id, 'Delivered', mr);
    if (this.deliveryReportDelayMs === null) this.heldReports.set(`classic ${device} ${mr}`, deliver);
    else this.later(this.deliveryReportDelayMs, deliver);
  }

  private statusesFor(number: string, parts: number): number[] {
    const list = this.deliveryStatuses.get(number) ?? [0];
    return Array.from({ length: parts }, (_, i) => list[Math.min(i, list.length - 1)] ?? 0);
  }

  private emitSmsStatus(device: string, id: string, status: string, foreignId?: string): void {
    this.broadcast([['Event', 'DongleSMSStatus'], ['Privilege', 'call,all'], ['Device', device], ['ID', id],
      ['Status', status], ...(foreignId === undefined ? [] : [['ForeignID', foreignId] as [string, string]])]);
  }

  /** Current builds: smsdb row for a send; it expires after Validity unless a final result closes it. */
  private openRow(device: string, job: Job): void {
    if (job.payload === '' || this.smsdb.has(job.payload)) return;
    const row: SmsdbRow = { device, payload: job.payload, timer: null };
    const ms = job.validity * this.opts.msPerValidityMinute;
    // setTimeout can't wait longer than 2^31-1 ms (it would fire at once): such rows never expire here.
    if (ms <= 2_147_483_647) {
      row.timer = setTimeout(() => { row.timer = null; this.expireRow(row); }, ms);
      row.timer.unref();
    }
    this.smsdb.set(job.payload, row);
  }

  private closeRow(payload: string): void {
    const row = this.smsdb.get(payload);
    if (!row) return;
    if (row.timer) clearTimeout(row.timer);
    this.smsdb.delete(payload);
  }

  private expireRow(row: SmsdbRow): void {
    if (this.closed || this.smsdb.get(row.payload) !== row) return;
    this.closeRow(row.payload);
    this.emitReport(row.device, row.payload, false, 2, '');
  }

  private record(device: string, job: Job, outcome: SimSmsOutcome): void {
    this.sent.push({ device, number: job.number, text: job.text, payload: job.payload, parts: job.parts, at: new Date(), outcome });
    this.opts.log?.(`[${device}] ${outcome} ${job.number} parts=${job.parts} payload=${job.payload}`);
  }

  private emitReport(device: string, payload: string, success: boolean, type: 0 | 1 | 2, report: string): void {
    const ts = type === 1 ? new Date().toISOString().replace('T', ' ').slice(0, 19) + ' +00:00' : '';
    this.broadcast([['Event', 'DongleReport'], ['Privilege', 'call,all'], ['Device', device], ['Payload', payload],
      ['SCTS', ts], ['DT', ts], ['Success', success ? '1' : '0'], ['Type', String(type)], ['Report', report]]);
  }

  /** chan_dongle's disconnect_dongle(): the queue is flushed with NO report for anything in it. */
  private disconnectModem(modem: Modem): void {
    if (modem.jobTimer) clearTimeout(modem.jobTimer);
    modem.jobTimer = null;
    // Flushed without any event; classic task pointers are freed (and reusable) all the same.
    for (const job of [...(modem.current ? [modem.current] : []), ...modem.queue]) this.freeTaskId(job);
    modem.current = null;
    modem.queue = [];
    modem.connected = false;
    this.status(modem.opts.device, 'Free');
    this.status(modem.opts.device, 'Disconnect');
  }

  private reconnectModem(modem: Modem): void {
    if (this.closed) return;
    modem.connected = true;
    this.status(modem.opts.device, 'Connect');
    this.status(modem.opts.device, 'Register');
    this.status(modem.opts.device, 'Initialize');
    this.pump(modem);
  }

  private status(device: string, status: string): void {
    this.broadcast([['Event', 'DongleStatus'], ['Privilege', 'call,all'], ['Device', device], ['Status', status]]);
  }

  // ---------------------------------------------------------------- output helpers

  private modem(device: string): Modem {
    const modem = this.modems.get(device);
    if (!modem) throw new Error(`simulator: no modem ${JSON.stringify(device)}`);
    return modem;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.closed) fn(); }, ms);
    this.timers.add(t);
  }

  private reply(s: Session, m: Message, response: string, message: string): void {
    this.write(s, [['Response', response], ...m.actionIdHeader(), ['Message', message]]);
  }

  private write(s: Session, fields: Array<[string, string]>): void {
    this.writeRaw(s, encode(fields));
  }

  private writeRaw(s: Session, text: string): void {
    if (!s.socket.destroyed && s.socket.writable) s.socket.write(text);
  }

  private broadcast(fields: Array<[string, string]>): void {
    this.broadcastRaw(encode(fields));
  }

  private broadcastRaw(text: string): void {
    for (const s of this.sessions) if (s.authenticated && s.eventsOn && !s.closing) this.writeRaw(s, text);
  }
}

/** Header lookup with Asterisk's astman_get_header rules, over raw header lines. */
class Message {
  constructor(private readonly lines: Buffer[]) {}

  /** Raw bytes of the first header `name` (case-insensitive), leading blanks (< 33) skipped. */
  getBytes(name: string): Buffer {
    const prefix = Buffer.from(`${name.toLowerCase()}:`, 'latin1');
    for (const line of this.lines) {
      if (line.length < prefix.length) continue;
      let match = true;
      for (let i = 0; i < prefix.length; i++) {
        const c = line[i] as number;
        const lower = c >= 0x41 && c <= 0x5a ? c + 32 : c;
        if (lower !== prefix[i]) { match = false; break; }
      }
      if (!match) continue;
      let start = prefix.length;
      while (start < line.length && (line[start] as number) < 33) start++;
      return line.subarray(start);
    }
    return Buffer.alloc(0);
  }

  get(name: string): string {
    return this.getBytes(name).toString('utf8');
  }

  actionIdHeader(): Array<[string, string]> {
    const id = this.get('ActionID');
    return id === '' ? [] : [['ActionID', id]];
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.lines) {
      const text = line.toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) continue;
      const key = text.slice(0, colon).toLowerCase();
      if (!Object.hasOwn(out, key)) out[key] = this.get(key);
    }
    return out;
  }
}

function encode(fields: Array<[string, string]>): string {
  return fields.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

/** chan_dongle's Validity: minutes; missing, 0 or invalid → 4320 (3 days). */
function parseValidity(value: string): number {
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) && n > 0 ? n : 4320;
}

/** Asterisk's ast_true(). */
function isAstTrue(value: string): boolean {
  return ['yes', 'true', 'y', 't', '1', 'on'].includes(value.trim().toLowerCase());
}

/**
 * Asterisk's ast_unescape_c (main/utils.c), which current chan_dongle applies to Message:
 * `\b \f \n \r \t` → control chars, `\` + other char → that char, a trailing `\` stays.
 */
export function unescapeC(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\') { out += ch; continue; }
    i++;
    if (i >= text.length) { out += '\\'; break; }
    const next = text[i] as string;
    switch (next) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      default: out += next;
    }
  }
  return out;
}
