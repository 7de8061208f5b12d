/**
 * One logical AMI connection on top of `asterisk-manager@0.2.0`, with the library's traps handled
 * (docs/ami-protocol.md §3):
 * - its built-in no-op `error` listener swallows errors → we add our own and log;
 * - a failed login is invisible and held actions wait forever → we call connect()/login()
 *   ourselves, with a timeout, and report `login-failed`;
 * - `keepConnected()` is broken and retries forever at 10–60 s → we never use it: every attempt
 *   gets a FRESH manager, with bounded exponential backoff between attempts;
 * - actions sent while disconnected vanish without a callback → we track the state ourselves and
 *   reject at once (`written: false`); every action is a Promise that ALWAYS settles (response,
 *   timeout, or connection loss);
 * - default ActionIDs are Date.now() and collide → we pass a UUID;
 * - `cb` only sees the first response, so list items are lost → we collect them by ActionID from
 *   the raw message stream until the `…Complete` event;
 * - no keepalive → a Ping heartbeat declares the link dead on a miss;
 * - its parser's output differs from frame.ts (arrays, Variable objects, `Key:` without a space,
 *   the empty `{}` after DongleNewSMS, lower-cased `follows`) → {@link normaliseLibraryMessage}.
 * Every value passes {@link assertSafeAmiAction} before it reaches `action()`: the library
 * writes values verbatim, so a CR/LF would inject a second action.
 */
import { randomUUID } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import createManager from 'asterisk-manager';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../clock.js';
import { assertSafeAmiAction, assertSafeAmiValue, type AmiActionFields } from './ami-values.js';
import type { AmiMessage } from './frame.js';

type Manager = createManager.Manager;
type RawAmiMessage = createManager.RawAmiMessage;

/** Bounded exponential backoff between connection attempts. */
export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  initialDelayMs?: number;
  /** Cap. Default 30 s. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

/** Options for {@link AmiConnection}. */
export interface AmiConnectionOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  log: Logger;
  /** Used for the backoff waits (policy time). Default: the system clock. */
  clock?: Clock;
  /** TCP connect + Login must complete within this. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default response timeout per action. Default 10 s. */
  actionTimeoutMs?: number;
  /** Ping period; 0 disables the heartbeat. Default 20 s. */
  pingIntervalMs?: number;
  /** A Ping unanswered for this long means the link is dead. Default 5 s (capped at the interval). */
  pingTimeoutMs?: number;
  /** A link must stay up this long before the backoff resets. Default 10 s. */
  stableAfterMs?: number;
  backoff?: BackoffOptions;
}

/** What an {@link AmiConnection} tells its listeners. */
export type AmiConnectionEvent =
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'login-failed'; reason: string }
  /** An unsolicited event (list items of our own list actions are not repeated here). */
  | { type: 'event'; message: AmiMessage };

export type AmiActionErrorCode = 'AMI_NOT_CONNECTED' | 'AMI_TIMEOUT' | 'AMI_CONNECTION_LOST';

/**
 * Why an action has no response. `written` says whether the action reached the socket: if it
 * did, Asterisk may have executed it, so the caller must treat the outcome as unknown.
 */
export class AmiActionError extends Error {
  constructor(
    readonly code: AmiActionErrorCode,
    readonly written: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'AmiActionError';
  }
}

/** Options for {@link AmiConnection.sendAction}. */
export interface SendActionOptions {
  /** Response timeout for this action (default: the connection's `actionTimeoutMs`). */
  timeoutMs?: number;
  /**
   * Called SYNCHRONOUSLY when the response is parsed, before any later message of the stream is
   * handled (the returned Promise resolves a microtask later, after events that came in the same
   * TCP read). Use it to register state that the following events need, e.g. a classic
   * chan_dongle ack `ID:` that a DongleSMSStatus right behind it refers to.
   */
  onResponse?: (response: AmiMessage) => void;
}

/** The response to a list action plus its items, collected by ActionID. */
export interface AmiListResult {
  response: AmiMessage;
  items: AmiMessage[];
  /** The `…Complete` event (null if the ack was an error, so no list followed). */
  complete: AmiMessage | null;
}

interface Pending {
  id: string;
  isList: boolean;
  onResponse: ((response: AmiMessage) => void) | undefined;
  response: AmiMessage | null;
  items: AmiMessage[];
  timer: NodeJS.Timeout;
  resolve: (value: AmiListResult) => void;
  reject: (error: AmiActionError) => void;
}

/** One TCP session: a fresh manager, its socket, and the actions in flight on it. */
interface Link {
  manager: Manager;
  socket: net.Socket | null;
  isReady: boolean;
  isDown: boolean;
  pending: Map<string, Pending>;
  pingTimer: NodeJS.Timeout | null;
  upSince: number;
  closed: Promise<string>;
  markClosed: (reason: string) => void;
}

/** An AMI session that logs in, keeps itself alive and reconnects; see the module comment. */
export class AmiConnection {
  /** The last connect/login/heartbeat failure, for status pages and logs. */
  lastError: string | null = null;

  private readonly opts: Required<Omit<AmiConnectionOptions, 'backoff' | 'clock' | 'log'>> & { backoff: Required<BackoffOptions> };
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly listeners = new Set<(event: AmiConnectionEvent) => void>();
  private readonly stop = new AbortController();
  private link: Link | null = null;
  private running: Promise<void> | null = null;

  constructor(options: AmiConnectionOptions) {
    // Credentials go into a Login action verbatim: check them once, loudly, at construction.
    assertSafeAmiValue('Username', options.username);
    assertSafeAmiValue('Secret', options.secret);
    const pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.opts = {
      host: options.host,
      port: options.port,
      username: options.username,
      secret: options.secret,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      actionTimeoutMs: options.actionTimeoutMs ?? 10_000,
      pingIntervalMs,
      pingTimeoutMs: Math.min(options.pingTimeoutMs ?? 5_000, pingIntervalMs > 0 ? pingIntervalMs : Infinity),
      stableAfterMs: options.stableAfterMs ?? 10_000,
      backoff: {
        initialDelayMs: options.backoff?.initialDelayMs ?? 500,
        maxDelayMs: options.backoff?.maxDelayMs ?? 30_000,
        factor: options.backoff?.factor ?? 2,
      },
    };
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Starts connecting and keeps reconnecting in the background until {@link close}. Resolves
   * after the FIRST attempt: true if it is connected, false if that attempt failed (retries go on).
   */
  start(): Promise<boolean> {
    if (this.running) return Promise.resolve(this.isConnected());
    return new Promise<boolean>((resolveFirst) => {
      // start() never rejects (callers may not await it); a bug in the loop is logged instead.
      this.running = this.run(resolveFirst).catch((err: unknown) => {
        this.log.error({ event: 'ami.loop.crashed', err }, 'AMI reconnect loop crashed');
        resolveFirst(false);
      });
    });
  }

  /** True while logged in and usable. */
  isConnected(): boolean {
    return this.link !== null && this.link.isReady && !this.link.isDown;
  }

  /** Subscribes to connection events; returns the unsubscribe function. */
  on(listener: (event: AmiConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends one action and resolves with its response (`Response: Success` or `Error` alike).
   * Rejects with {@link AmiActionError} (not connected / timeout / connection lost) or with
   * AmiUnsafeValueError (a value could inject AMI headers; nothing was written).
   */
  async sendAction(fields: AmiActionFields, options: SendActionOptions = {}): Promise<AmiMessage> {
    return (await this.send(fields, false, options.timeoutMs, options.onResponse)).response;
  }

  /**
   * Sends a list action (e.g. DongleShowDevices) and collects the item events carrying its
   * ActionID until the `EventList: Complete` event. The timeout covers the whole list.
   */
  sendListAction(fields: AmiActionFields, options: { timeoutMs?: number } = {}): Promise<AmiListResult> {
    return this.send(fields, true, options.timeoutMs);
  }

  /** Stops reconnecting, drops the session and settles every pending action. */
  async close(): Promise<void> {
    this.stop.abort();
    if (this.link) this.linkDown(this.link, 'closed by simcast');
    await this.running;
  }

  // ---------------------------------------------------------------- actions

  private async send(
    fields: AmiActionFields, isList: boolean, timeoutMs?: number, onResponse?: (response: AmiMessage) => void,
  ): Promise<AmiListResult> {
    if (!fields.Action) throw new Error('AMI action without Action');
    if (Object.keys(fields).some((k) => k.toLowerCase() === 'actionid')) throw new Error('ActionID is set by AmiConnection');
    assertSafeAmiAction(fields);
    const link = this.link;
    const socket = link?.socket ?? null;
    if (!link || !link.isReady || link.isDown || (socket !== null && (socket.destroyed || !socket.writable))) {
      throw new AmiActionError('AMI_NOT_CONNECTED', false, 'AMI is not connected; the action was not sent');
    }
    const request: Record<string, string> = { actionid: randomUUID() };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) request[key] = value;
    const limit = timeoutMs ?? this.opts.actionTimeoutMs;
    return new Promise<AmiListResult>((resolve, reject) => {
      // asterisk-manager may lengthen a colliding id; it returns the one it wrote.
      const id = link.manager.action(request);
      const pending: Pending = {
        id,
        isList,
        onResponse,
        response: null,
        items: [],
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(link, pending);
          reject(new AmiActionError('AMI_TIMEOUT', true, `no response to ${fields.Action} within ${limit} ms`));
        }, limit),
      };
      link.pending.set(id, pending);
    });
  }

  /** Forgets a pending action (and the library's `once(id)` listener, which would leak). */
  private settle(link: Link, pending: Pending): void {
    clearTimeout(pending.timer);
    link.pending.delete(pending.id);
    link.manager.removeAllListeners(pending.id);
  }

  private onMessage(link: Link, raw: RawAmiMessage): void {
    if (link.isDown) return;
    const msg = normaliseLibraryMessage(raw);
    if (Object.keys(msg).length === 0) return; // the blank block after DongleNewSMS
    const id = msg.actionid;
    const pending = id === undefined ? undefined : link.pending.get(id);
    if (msg.response !== undefined) {
      if (!pending) {
        // The Login response (library-owned id) or a response that came after its timeout.
        if (id !== undefined) this.log.debug({ event: 'ami.response.unmatched', actionId: id }, 'AMI response without a pending action');
        return;
      }
      if (pending.isList && msg.response.toLowerCase() === 'success') {
        pending.response = msg; // the ack; the items follow
        return;
      }
      this.settle(link, pending);
      if (pending.onResponse) {
        try {
          pending.onResponse(msg);
        } catch (err) {
          this.log.error({ event: 'ami.onresponse.error', err }, 'AMI onResponse hook threw');
        }
      }
      pending.resolve({ response: msg, items: [], complete: null });
      return;
    }
    if (pending?.isList && pending.response) {
      if ((msg.eventlist ?? '').toLowerCase() === 'complete') {
        this.settle(link, pending);
        pending.resolve({ response: pending.response, items: pending.items, complete: msg });
      } else {
        pending.items.push(msg);
      }
      return;
    }
    if (msg.event !== undefined) this.emit({ type: 'event', message: msg });
  }

  // ---------------------------------------------------------------- connection lifecycle

  private async run(resolveFirst: (connected: boolean) => void): Promise<void> {
    let failures = 0;
    let isFirst = true;
    while (!this.stop.signal.aborted) {
      const link = await this.connectOnce();
      if (isFirst) {
        isFirst = false;
        resolveFirst(link !== null);
      }
      if (link) {
        const reason = await link.closed;
        const upMs = this.clock.now().getTime() - link.upSince;
        // Reset the backoff only after a stable session, so a link that logs in and dies at
        // once can't turn into a reconnect storm.
        failures = upMs >= this.opts.stableAfterMs ? 0 : failures + 1;
        this.log.warn({ event: 'ami.disconnected', reason, upMs }, 'AMI connection lost');
      } else {
        failures++;
      }
      if (this.stop.signal.aborted) break;
      const { initialDelayMs, maxDelayMs, factor } = this.opts.backoff;
      const delay = Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, failures - 1));
      this.log.info({ event: 'ami.reconnect.scheduled', delayMs: delay, failures }, 'AMI reconnect scheduled');
      await this.clock.sleep(delay, this.stop.signal);
    }
  }

  /** One attempt: fresh manager, TCP connect, Login. Resolves with the live link or null. */
  private connectOnce(): Promise<Link | null> {
    return new Promise<Link | null>((resolve) => {
      const { host, port, username, secret } = this.opts;
      const manager = createManager(undefined, host, username, secret, false);
      let markClosed: (reason: string) => void = () => {};
      const closed = new Promise<string>((r) => { markClosed = r; });
      const link: Link = {
        manager, socket: null, isReady: false, isDown: false, pending: new Map(), pingTimer: null,
        upSince: 0, closed, markClosed,
      };
      let isSettled = false;
      const fail = (reason: string, isLoginFailure = false) => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', onStop);
        this.lastError = reason;
        link.isDown = true;
        this.destroy(link);
        if (isLoginFailure) {
          this.log.error({ event: 'ami.login.failed', host, port, username, reason }, `AMI login failed: ${reason}`);
          this.emit({ type: 'login-failed', reason });
        } else {
          this.log.warn({ event: 'ami.connect.failed', host, port, reason }, `AMI connection failed: ${reason}`);
        }
        resolve(null);
      };
      const timer = setTimeout(() => fail(`no connection/login within ${this.opts.connectTimeoutMs} ms`), this.opts.connectTimeoutMs);
      // close() during an attempt must end it, or run() would wait on a link nobody tracks.
      const onStop = () => fail('closed by simcast');
      if (this.stop.signal.aborted) return onStop();
      this.stop.signal.addEventListener('abort', onStop, { once: true });
      void closed.then(() => this.stop.signal.removeEventListener('abort', onStop));

      // Our own listener: without it the library's no-op swallows every socket error.
      manager.on('error', (err: Error) => {
        if (!link.isDown) this.log.warn({ event: 'ami.socket.error', err: err.message }, 'AMI socket error');
        if (!isSettled) fail(err.message);
      });
      manager.on('close', () => {
        if (!isSettled) fail('connection closed before login completed');
        else this.linkDown(link, 'connection closed by peer');
      });
      manager.on('rawevent', (raw: RawAmiMessage) => this.onMessage(link, raw));

      link.socket = captureClientSocket(() => manager.connect(port, host, () => {
        if (isSettled) return;
        manager.login((err) => {
          if (isSettled) return;
          if (err) {
            const message = normaliseLibraryMessage(err).message ?? 'Response: Error';
            return fail(message, true);
          }
          isSettled = true;
          clearTimeout(timer);
          link.isReady = true;
          link.upSince = this.clock.now().getTime();
          this.link = link;
          this.lastError = null;
          this.log.info({ event: 'ami.connected', host, port }, 'AMI connected and logged in');
          this.schedulePing(link);
          this.emit({ type: 'connected' });
          resolve(link);
        });
      }));
    });
  }

  private schedulePing(link: Link): void {
    if (this.opts.pingIntervalMs <= 0 || link.isDown) return;
    link.pingTimer = setTimeout(() => {
      link.pingTimer = null;
      this.sendAction({ Action: 'Ping' }, { timeoutMs: this.opts.pingTimeoutMs }).then(
        () => this.schedulePing(link),
        (err: unknown) => {
          if (link.isDown) return;
          const reason = `heartbeat failed: ${err instanceof Error ? err.message : String(err)}`;
          this.lastError = reason;
          this.linkDown(link, reason);
        },
      );
    }, this.opts.pingIntervalMs);
  }

  /** Declares a live link dead: settles everything in flight, destroys the socket, tells listeners. */
  private linkDown(link: Link, reason: string): void {
    if (link.isDown) return;
    link.isDown = true;
    if (link.pingTimer) clearTimeout(link.pingTimer);
    for (const pending of [...link.pending.values()]) {
      this.settle(link, pending);
      pending.reject(new AmiActionError('AMI_CONNECTION_LOST', true, `AMI connection lost (${reason}) before the response`));
    }
    this.destroy(link);
    if (this.link === link) this.link = null;
    if (link.isReady) this.emit({ type: 'disconnected', reason });
    link.markClosed(reason);
  }

  private destroy(link: Link): void {
    // destroy(), not end(): a hung peer never answers our FIN, and the socket would linger.
    if (link.socket) link.socket.destroy();
    else link.manager.disconnect();
  }

  private emit(event: AmiConnectionEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A throwing subscriber must not break the stream parsing that called us.
        this.log.error({ event: 'ami.listener.error', err }, 'AMI event listener threw');
      }
    }
  }
}

/**
 * asterisk-manager keeps its socket private, but we need it to destroy a hung session and to
 * know whether a write can still happen. Node publishes every client socket created by
 * net.connect() on the `net.client.socket` diagnostics channel, synchronously; the manager
 * creates exactly one inside `connect()`, and JS is single-threaded, so the first one published
 * during the call is it.
 */
function captureClientSocket(connect: () => void): net.Socket | null {
  let socket: net.Socket | null = null;
  const onSocket = (message: unknown) => {
    if (socket === null) socket = (message as { socket: net.Socket }).socket;
  };
  diagnosticsChannel.subscribe('net.client.socket', onSocket);
  try {
    connect();
  } finally {
    diagnosticsChannel.unsubscribe('net.client.socket', onSocket);
  }
  return socket;
}

/**
 * Converts what asterisk-manager's parser emits into the shape frame.ts produces: lower-case keys,
 * one string per key (the FIRST of repeated keys, as Asterisk's own lookup does), leading blanks
 * of values skipped. Handles its quirks:
 * - repeated keys arrive as arrays → first element;
 * - `Variable`/`ChanVariable` arrive as `{name: value}` objects → `name=value` (or `name`) of the
 *   first entry (lossy for several variables; no chan_dongle event uses them);
 * - a `Key:` line without a space after the colon arrives as the key `"key:"` (or `"key:value"`,
 *   value lower-cased by the library — unrecoverable, Asterisk itself always writes ": ");
 * - a line without any colon arrives as a key with spaces and '' → dropped, as frame.ts does;
 * - `Response: Follows` arrives as `{response: 'follows', content}` → `Follows`.
 */
export function normaliseLibraryMessage(raw: RawAmiMessage): AmiMessage {
  const out = Object.create(null) as Record<string, string>;
  for (const [rawKey, rawValue] of Object.entries(raw)) {
    let value = flattenValue(rawValue);
    let key = rawKey.toLowerCase();
    const colon = key.indexOf(':');
    if (colon >= 0) {
      const rest = key.slice(colon + 1);
      key = key.slice(0, colon);
      value = value === '' ? rest : `${rest}: ${value}`;
    }
    if (key === '' || /\s/.test(key)) continue;
    value = value.replace(/^[ \t]+/, '');
    if (key === 'response' && value.toLowerCase() === 'follows') value = 'Follows';
    if (!(key in out)) out[key] = value;
  }
  return out;
}

function flattenValue(value: RawAmiMessage[string]): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return String(value[0] ?? '');
  const first = Object.entries(value)[0];
  if (!first) return '';
  return first[1] === '' ? first[0] : `${first[0]}=${first[1]}`;
}
