import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GatewayEvent, ModemInfo, SmsGateway } from '../modems/sms-gateway.js';
import { isInsideWindow, nextWindowOpen } from '../scheduling/sending-window.js';
import { drawPauseMs, rotationAfterFailure } from '../scheduling/sim-budget.js';
import type { Settings } from '../settings/settings.js';
import { defaultPauseRange } from '../settings/settings.js';
import type { SimsRepo } from '../sims/sims-repo.js';
import type { DispatchRepo, RunningCampaign } from './dispatch-repo.js';
import { afterReport, afterSubmit, type MessageState, type Transition } from './message-state.js';
import { newQueueWatch, observeQueue, type QueueWatch } from './queue-watch.js';

/**
 * Our message ids travel to chan_dongle as Payload `simcast-<database tag>-<id>` and come back in
 * DongleReport. chan_dongle keeps payloads in its own sqlite for days (Type 2 expiry reports), so
 * the tag, random per database, keeps a reinstalled simcast from taking an old report for a new
 * message with the same id.
 */
export class Payloads {
  private readonly pattern: RegExp;
  constructor(private readonly tag: string) {
    if (!/^[a-z0-9]{1,16}$/.test(tag)) throw new Error('payload tag: 1–16 lowercase letters or digits');
    this.pattern = new RegExp(`^simcast-${tag}-(\\d{1,15})$`);
  }
  of(id: number): string {
    return `simcast-${this.tag}-${id}`;
  }
  /** Our message id, or null for a payload that is not ours (another database, the CLI's UNKNOWN). */
  idOf(payload: string): number | null {
    const m = this.pattern.exec(payload);
    return m ? Number(m[1]) : null;
  }
}

export interface DispatcherEvents {
  /** A message changed state (tests and the live page await these instead of sleeping). */
  message: [{ id: number; campaignId: number | null; state: MessageState }];
  'campaign-finished': [{ campaignId: number }];
  tick: [TickResult];
}

export interface TickResult {
  claimed: number;
  inFlight: number;
  /** When something may next become sendable (a pause ends, the window opens, a day starts…). */
  wakeAt: Date | null;
}

export interface DispatcherDeps {
  repo: DispatchRepo;
  sims: SimsRepo;
  gateway: SmsGateway;
  clock: Clock;
  log: Logger;
  settings: () => Promise<Settings>;
  /** Payload format; default tag "0" (tests). The service passes the database's own tag. */
  payloads?: Payloads;
  /** Randomness for the pauses (a dependency, so tests can fix it). */
  random?: () => number;
  /**
   * How often to re-read the modem list from chan_dongle even without status events, while
   * something is waiting or in flight (default 15 s); with nothing to do, every `idleModemRefreshMs`
   * (default 60 s). A DongleStatus event, a refused or timed-out send re-read it at once.
   */
  modemRefreshMs?: number;
  idleModemRefreshMs?: number;
  /**
   * Longest sleep between ticks (default 5 s): a safety poll for what changes without a notify()
   * (another instance's campaign, settings, SIM limits). Everything this process knows of wakes
   * the loop by notify(); pauses, the window, retries and report timeouts by the tick's `wakeAt`.
   */
  idleMs?: number;
  /** How often other instances' orphans and our own overdue rows are looked for in the database (default 60 s). */
  housekeepingMs?: number;
  /**
   * With delivery reports on: how often chan_dongle's queue is polled (DongleShowDevices) while an
   * SMS of ours waits in it, to see it leave the modem (default 500 ms; no polls otherwise).
   */
  queuePollMs?: number;
}

/** Another instance's message still `sending` after this long is an orphan of a dead instance. */
const orphanAfterMs = 3600_000;

interface InFlight {
  messageId: number;
  campaignId: number | null;
  imsi: string;
  claimedAt: Date;
  /** The SIM's pause range as read at the claim: its report starts the pause without reading the SIM again. */
  pause: { min: number; max: number };
}

/** A submitted SMS whose leaving the modem is read off chan_dongle's queue (delivery reports on). */
interface Watched {
  messageId: number;
  queue: QueueWatch;
}

/** Why a message was settled, for the SIM's failure count. */
type Blame = 'none' | 'sim' | 'message';

/**
 * Sends waiting messages through every ready SIM, one message in flight per modem, each SIM
 * within its ledger limits and pause, inside the sending window. Every message is written
 * `sending` (with its SIM and this instance) before its DongleSendSMS is written to AMI; its
 * report, or the timeout, settles it. Locks are never held across network I/O: the claim commits
 * first. See CONTEXT.md beside this file.
 */
export class Dispatcher {
  readonly events = new EventEmitter<DispatcherEvents>();
  private readonly inFlight = new Map<string, InFlight>();
  /** Devices whose SMS in flight was submitted with a delivery report and is still in chan_dongle's queue. */
  private readonly watched = new Map<string, Watched>();
  /** Whether the queue poll loop runs (only while something is watched: no polls otherwise). */
  private polling = false;
  /**
   * Each SIM's next slot as this instance last wrote it (clock ms): the pause after its last SMS,
   * drawn and written by `settle`. Only `settle` and the claim write a SIM's next slot, so until
   * then its claim could only find it paused: a tick does not ask (see `doTick`).
   */
  private readonly pausedUntil = new Map<string, number>();
  /** Modems whose last message timed out, with the modem listing count then: see `freeModems`. */
  private readonly afterUnknown = new Map<string, number>();
  /** How many times the modem list was read; a count, not a time, so a fake clock cannot tie. */
  private modemListings = 0;
  private modems: ModemInfo[] = [];
  private modemsFetchedAt = -Infinity;
  private modemsDirty = true;
  private wake: (() => void) | null = null;
  /** A notify() that arrived while no sleep was running (during a tick): the next sleep is skipped. */
  private wakePending = false;
  /**
   * Campaigns to check for completion: those with a message settled or skipped since the last
   * check. One with a message of ours still in flight waits here until none is (see
   * `finishable`). `finishAll`: check every running campaign (a campaign changed, orphans were
   * settled, at start).
   */
  private readonly finishCandidates = new Set<number>();
  private finishAll = true;
  /** Running campaigns as last read (null: read them at the next claim). */
  private campaigns: RunningCampaign[] | null = null;
  /** The last claim saw no notification waiting; clock ms of that look (re-looked every `idleMs`). */
  private noNotificationsSince: number | null = null;
  /** Settings as read at the start of the last tick; reports between ticks use them. */
  private lastSettings: Settings | null = null;
  /** performance.now() of the last settings read (real time: how stale they may be, not policy). */
  private settingsReadAt = -Infinity;
  /** Clock time (ms) of the last look for orphans and overdue rows in the database. */
  private housekeptAt = -Infinity;
  /**
   * The last tick's every free modem got a message: there is more work, the next tick need not
   * ask. False also after a claim found nothing, so the idle loop costs one indexed probe.
   */
  private workLikely = false;
  /** The last tick found nothing waiting and nothing in flight: modems are re-read less often. */
  private idle = false;
  private unsubscribe: (() => void) | null = null;
  private ticking: Promise<TickResult> | null = null;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly payloads: Payloads;

  constructor(private readonly deps: DispatcherDeps) {
    this.log = deps.log.child({ component: 'dispatcher' });
    this.random = deps.random ?? Math.random;
    this.payloads = deps.payloads ?? new Payloads('0');
  }

  /** Turns this instance's interrupted sends into `unknown` and starts listening to the gateway. */
  async recover(): Promise<void> {
    const n = await this.deps.repo.recoverInFlight(
      this.deps.clock.now(),
      'Служба перезапускалась во время отправки: неизвестно, ушло ли SMS. Автоматически не переотправляется.',
    );
    if (n > 0) this.log.warn({ event: 'dispatch.recovered', count: n }, 'messages left in sending became unknown');
    this.unsubscribe ??= this.deps.gateway.subscribe((e) => void this.onGatewayEvent(e));
  }

  /** One pass: settle overdue messages, hand a message to every free SIM, finish campaigns. */
  tick(): Promise<TickResult> {
    return this.tickOnce(false);
  }

  /** `reuseSettings`: the loop's ticks may use settings read less than `idleMs` ago (real time). */
  private tickOnce(reuseSettings: boolean): Promise<TickResult> {
    // Ticks never overlap: a second caller waits for the running one.
    this.ticking ??= this.doTick(reuseSettings).finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Loops until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await this.recover();
    while (!signal.aborted) {
      let wakeAt: Date | null = null;
      try {
        wakeAt = (await this.tickOnce(true)).wakeAt;
      } catch (error) {
        this.log.error({ event: 'dispatch.tick-failed', err: error }, 'dispatcher tick failed');
      }
      const cap = this.deps.idleMs ?? 5000;
      const delay = wakeAt ? Math.min(cap, Math.max(0, wakeAt.getTime() - this.deps.clock.now().getTime())) : cap;
      await this.sleep(delay, signal);
    }
  }

  /** Stops listening to the gateway (after `run` has ended and `drain` has waited). */
  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    // Their messages stay `sending`: the restart makes them `unknown`, a late delivery report `delivered`.
    this.watched.clear();
  }

  /**
   * After `run` has stopped (no new claims), still applying reports: waits (bounded) for the
   * messages in flight, so a clean stop leaves fewer of them `unknown` after the restart.
   */
  async drain(timeoutMs: number): Promise<void> {
    // Real time on purpose: shutdown waits for the wire, not for the (possibly fake) policy clock.
    for (let waited = 0; this.inFlight.size > 0 && waited < timeoutMs; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The modems as last listed (refreshed by the ticks; may be stale while AMI is down). */
  knownModems(): readonly ModemInfo[] {
    return this.modems;
  }

  /** A hint that something changed (campaign started, modem freed): tick soon. */
  notify(): void {
    // Anything may have changed: campaigns (started, paused, cancelled), a queued notification.
    this.settingsReadAt = -Infinity;
    this.finishAll = true;
    this.campaigns = null;
    this.noNotificationsSince = null;
    this.wakeUp();
  }

  /** Our own news (a message settled, a modem freed): tick soon, what we cached still holds. */
  private wakeUp(): void {
    if (this.wake) this.wake();
    else this.wakePending = true;
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.wakePending) {
      // A modem freed up or a campaign started during the tick: look again at once.
      this.wakePending = false;
      return;
    }
    const woken = new AbortController();
    // With a reason: abort() without one builds a DOMException (a stack trace) at every wake-up.
    const onAbort = () => woken.abort('woken');
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake = onAbort;
    await this.deps.clock.sleep(ms, woken.signal);
    this.wake = null;
    signal.removeEventListener('abort', onAbort);
  }

  /**
   * Costs nothing it need not: with nothing waiting and nothing in flight a tick is one indexed
   * probe (`hasWork`); settings are read only when something needs them; orphans and overdue rows
   * are looked for in the database every `housekeepingMs` (or when one of ours runs out of time).
   */
  private async doTick(reuseSettings: boolean): Promise<TickResult> {
    const { repo, clock, gateway } = this.deps;
    const nowMs = clock.now().getTime();
    let settings: Settings | null = null;
    const readSettings = async () => {
      // In the running loop a busy modem set ticks after every report: settings read a moment ago
      // still hold (a change reaches the loop within `idleMs`, as it did by the idle poll).
      const recent = reuseSettings && this.lastSettings && performance.now() - this.settingsReadAt < (this.deps.idleMs ?? 5000);
      if (recent) settings ??= this.lastSettings;
      if (!settings) {
        settings = await this.deps.settings();
        this.settingsReadAt = performance.now();
      }
      this.lastSettings = settings;
      return settings;
    };
    const wakeTimes: Date[] = [];
    const housekeeping = nowMs - this.housekeptAt >= (this.deps.housekeepingMs ?? 60_000);
    const timeoutMs = (this.lastSettings?.messageTimeoutSeconds ?? 0) * 1000;
    const ownOverdue = [...this.inFlight.values()].some((f) => nowMs - f.claimedAt.getTime() >= timeoutMs);
    if (housekeeping || ownOverdue) {
      if (housekeeping) this.housekeptAt = nowMs;
      await this.settleOverdue(await readSettings(), housekeeping);
    }
    let claimed = 0;

    // Modems are looked at even with nothing to send (throttled), so new SIMs appear on the
    // modems page and in forecasts before the first campaign starts.
    if (gateway.isConnected() && this.modemsDue(nowMs)) await this.refreshModems(await readSettings());
    const { free, pauseEnds } = this.outOfPause(gateway.isConnected() ? this.freeModems() : [], nowMs);
    for (const end of pauseEnds) wakeTimes.push(new Date(end));
    // No modem free: nothing to claim; a report, a timeout or a status event will wake the loop.
    const askedForWork = free.length > 0 && !this.workLikely;
    const work = free.length > 0 && (this.workLikely || (await repo.hasWork()));
    if (askedForWork) {
      // Back from idle: what was cached may have changed meanwhile (another instance's campaign or notification).
      this.campaigns = null;
      this.noNotificationsSince = null;
    }
    // With no modem free nothing was learnt: the last claims' verdict stands.
    if (free.length > 0) this.workLikely = false;
    if (work) {
      const current = await readSettings();
      const now = clock.now();
      const windowOpen = isInsideWindow(now, current.window, current.timezone);
      if (!windowOpen) wakeTimes.push(nextWindowOpen(now, current.window, current.timezone));
      const ctx = {
        now,
        timeZone: current.timezone,
        windowOpen,
        notificationsIgnoreWindow: !current.notificationsKeepWindow,
        // Classic chan_dongle builds cannot send concatenated SMS.
        maxPartsPerMessage: gateway.generation?.() === 'classic' ? 1 : Number.MAX_SAFE_INTEGER,
        random: this.random,
      };
      const sends: Promise<void>[] = [];
      let foundNothing = false;
      // Running campaigns are read once per tick at most, and only when not cached: a claim that
      // finds nothing with a list read in an earlier tick reads it again and tries once more (a
      // campaign started since). Claims side by side share that one read.
      let readThisTick: Promise<RunningCampaign[]> | null = null;
      const readCampaigns = () =>
        (readThisTick ??= repo.runningCampaigns().then((c) => (this.campaigns = c)));
      // The free modems' claims run side by side (each its own transaction on its own connection;
      // the SIM row lock and SKIP LOCKED keep them apart, as between instances): one modem's
      // round trips no longer wait for another's. A claim probes for notifications only when the
      // last probe's "none" is older than `idleMs` (or a notify() dropped it); when the claims will
      // probe, the first runs alone, so that when its probe finds none the others skip theirs.
      const probeDue = () => this.noNotificationsSince === null || nowMs - this.noNotificationsSince >= (this.deps.idleMs ?? 5000);
      const claimFor = async (modem: ModemInfo) => {
        const notificationsMayWait = probeDue();
        const claim = async (campaigns: RunningCampaign[]) => {
          const outcome = await repo.claimForSim(modem.imsi!, modem.device, { ...ctx, campaigns, notificationsMayWait });
          if (outcome.kind === 'sim-unavailable') return outcome;
          // A probe that ran and found none starts a new spell without probes; a skipped probe keeps it.
          if (!outcome.noNotifications) this.noNotificationsSince = null;
          else if (notificationsMayWait) this.noNotificationsSince = nowMs;
          for (const m of outcome.skipped) {
            if (m.campaignId !== null) this.finishCandidates.add(m.campaignId);
            this.emitState(m.id, m.campaignId, 'skipped');
          }
          return outcome;
        };
        const campaigns = this.campaigns ?? (await readCampaigns());
        let outcome = await claim(campaigns);
        if (outcome.kind === 'nothing' && !outcome.busy) {
          // Again only if the list it claimed with was not this tick's (another claim may have read it meanwhile).
          const fresh = await readCampaigns();
          if (fresh !== campaigns) outcome = await claim(fresh);
        }
        if (outcome.kind === 'sim-unavailable') {
          if (outcome.until) wakeTimes.push(outcome.until);
          foundNothing = true;
          return;
        }
        if (outcome.kind === 'nothing') {
          // More may be claimable at once (the skip cap was reached).
          if (outcome.busy) this.wakePending = true;
          else foundNothing = true;
          return;
        }
        const { message } = outcome;
        claimed++;
        this.inFlight.set(modem.device, {
          messageId: message.id,
          campaignId: message.campaignId,
          imsi: modem.imsi!,
          claimedAt: now,
          pause: { min: outcome.sim.minPauseSeconds, max: outcome.sim.maxPauseSeconds },
        });
        this.afterUnknown.delete(modem.device);
        this.emitState(message.id, message.campaignId, 'sending');
        sends.push(this.submit(modem.device, message.id, message.phone, message.text, message.attempts, current));
      };
      try {
        const probes = probeDue();
        const [first, ...others] = free;
        if (probes) await claimFor(first!);
        const claims = await Promise.allSettled((probes ? others : free).map(claimFor));
        for (const c of claims) if (c.status === 'rejected') throw c.reason;
      } finally {
        // Even when a later claim fails, the submits already under way are awaited (and logged).
        for (const r of await Promise.allSettled(sends)) {
          if (r.status === 'rejected') this.log.error({ event: 'dispatch.submit-failed', err: r.reason }, 'could not record a submit outcome');
        }
      }
      this.workLikely = claimed > 0 && !foundNothing;
      // A modem found nothing it may send now: a retry's backoff may end before anything else.
      if (foundNothing) {
        const retryAt = await repo.nextRetryAt(clock.now());
        if (retryAt) wakeTimes.push(retryAt);
      }
    }
    // Idle (modems re-read only every minute) only when nothing is in flight and no modem is held
    // back after a timeout: such a modem is freed by the next listing that shows its queue empty.
    // (A SIM pausing between two SMS is not idle: the campaign goes on at the pause's end.)
    this.idle = !work && pauseEnds.length === 0 && this.inFlight.size === 0 && this.afterUnknown.size === 0;
    const timeoutSeconds = this.inFlight.size > 0 ? (await readSettings()).messageTimeoutSeconds : 0;
    for (const flight of this.inFlight.values()) {
      // A message still without a report must be looked at again when its timeout runs out.
      wakeTimes.push(new Date(flight.claimedAt.getTime() + timeoutSeconds * 1000));
    }
    // Finishing is checked only for campaigns that may have run dry (or after a change): it is a scan.
    const only = this.finishAll ? null : this.finishable();
    if (only === null || only.length > 0) {
      this.finishAll = false;
      if (only === null) this.finishCandidates.clear();
      else for (const campaignId of only) this.finishCandidates.delete(campaignId);
      for (const campaignId of await repo.finishCampaigns(clock.now(), only)) {
        this.log.info({ event: 'campaign.finished', campaignId }, 'campaign finished');
        this.events.emit('campaign-finished', { campaignId });
      }
    }
    const wakeAt = wakeTimes.length ? new Date(Math.min(...wakeTimes.map((d) => d.getTime()))) : null;
    const result = { claimed, inFlight: this.inFlight.size, wakeAt };
    this.events.emit('tick', result);
    return result;
  }

  private modemsDue(nowMs: number): boolean {
    if (this.modemsDirty) return true;
    const every = this.idle ? (this.deps.idleModemRefreshMs ?? 60_000) : (this.deps.modemRefreshMs ?? 15_000);
    return nowMs - this.modemsFetchedAt >= every;
  }

  /**
   * The free modems whose SIM is not in the pause we gave it, and when the others' pauses end. A
   * pausing SIM is not asked for work: its claim (a transaction on the SIM row) could only say
   * "paused until", which we know. With the default pauses (20–40 s) most free modems are pausing
   * at any moment, and every report's tick asked each of them.
   */
  private outOfPause(modems: ModemInfo[], nowMs: number): { free: ModemInfo[]; pauseEnds: number[] } {
    const free: ModemInfo[] = [];
    const pauseEnds: number[] = [];
    for (const m of modems) {
      const until = this.pausedUntil.get(m.imsi!);
      if (until !== undefined && until > nowMs) pauseEnds.push(until);
      else {
        this.pausedUntil.delete(m.imsi!);
        free.push(m);
      }
    }
    return { free, pauseEnds };
  }

  /**
   * Ready modems with a SIM and nothing in flight, in a stable order. A modem whose last message
   * timed out may still hold it in chan_dongle's queue (slow, not hung): it gets the next one only
   * once a fresh DongleShowDevices shows its queue empty, so SMS never pile up behind it.
   */
  private freeModems(): ModemInfo[] {
    return this.modems
      .filter((m) => m.ready && m.imsi && !this.inFlight.has(m.device))
      .filter((m) => !this.afterUnknown.has(m.device) || (this.modemListings > this.afterUnknown.get(m.device)! && m.queue === 0))
      .sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  }

  private async submit(device: string, id: number, to: string, text: string, attempts: number, settings: Settings): Promise<void> {
    const result = await this.deps.gateway.submit({ messageId: this.payloads.of(id), device, to, text, deliveryReport: settings.deliveryReports });
    const t = afterSubmit(result, attempts, this.deps.clock.now());
    // A queued send is logged at debug: at info one line per SMS, its outcome (`settle`).
    this.log[result.kind === 'queued' ? 'debug' : 'info']({ event: 'send.submitted', messageId: id, device, result: result.kind }, 'submitted');
    if (!t) {
      // Queued: the report settles it; with a delivery report asked for, the only report is the
      // operator's, so the modem is freed (and the message `sent`) when chan_dongle's queue shows it gone.
      if (settings.deliveryReports) this.watchQueue(device, id);
      return;
    }
    const refused = result.kind === 'refused';
    if (refused && result.retryable) this.modemsDirty = true;
    // The message's own fault, or Asterisk out of reach, says nothing about the SIM.
    const blame: Blame = (refused && !result.retryable) || !this.deps.gateway.isConnected() ? 'none' : 'sim';
    await this.settle(id, ['sending'], t, settings, blame, refused);
  }

  /**
   * Applies a transition and paces the SIM: its pause runs from now; a failure it is to blame for
   * counts towards taking it out of rotation. `release`: nothing was sent, give the parts back.
   */
  private async settle(id: number, from: readonly MessageState[], t: Transition, settings: Settings, blame: Blame, release = false): Promise<void> {
    const now = this.deps.clock.now();
    let flight: InFlight | undefined;
    for (const f of this.inFlight.values()) if (f.messageId === id) flight = f;
    const simFailed = blame === 'sim' && t.state !== 'sent' && t.state !== 'delivered';
    // The common case (a report of our own message in flight) is one statement: the transition
    // and the SIM's pause, with the pause range read at the claim. The rest reads the SIM first.
    const pacedAtOnce = flight !== undefined && !release && !simFailed && t.state !== 'waiting';
    const pace = pacedAtOnce ? { imsi: flight!.imsi, nextSendAt: new Date(now.getTime() + drawPauseMs(flight!.pause.min, flight!.pause.max, this.random)) } : null;
    const applied = pace
      ? await this.deps.repo.applyAndPace(id, from, t as Exclude<Transition, { state: 'waiting' }>, now, pace)
      : await this.deps.repo.apply(id, from, t, now, release ? { release: { timeZone: settings.timezone } } : {});
    if (pace && applied) this.pausedUntil.set(pace.imsi, pace.nextSendAt.getTime());
    let imsi = applied?.imsi ?? null;
    for (const [device, f] of this.inFlight) {
      if (f.messageId === id) {
        this.inFlight.delete(device);
        this.unwatch(device, id);
        imsi ??= f.imsi;
        if (t.state === 'unknown') {
          this.afterUnknown.set(device, this.modemListings);
          this.modemsDirty = true;
        }
      }
    }
    if (imsi && applied && !pacedAtOnce) {
      const sim = await this.deps.sims.get(imsi, now, settings.timezone);
      const range = sim ? { min: sim.minPauseSeconds, max: sim.maxPauseSeconds } : defaultPauseRange(settings);
      const pause = drawPauseMs(range.min, range.max, this.random);
      const nextSendAt = new Date(now.getTime() + pause);
      if (simFailed) {
        const failures = (sim?.consecutiveFailures ?? 0) + 1;
        const outOfRotationUntil = rotationAfterFailure(failures, now);
        if (outOfRotationUntil) this.log.warn({ event: 'sim.out-of-rotation', imsi, failures, until: outOfRotationUntil }, 'SIM rests after failures');
        await this.deps.repo.afterSend(imsi, nextSendAt, { reason: t.error ?? t.state, outOfRotationUntil }, now);
      } else {
        await this.deps.repo.afterSend(imsi, nextSendAt, null, now);
      }
      this.pausedUntil.set(imsi, nextSendAt.getTime());
    }
    if (applied) this.afterApplied(id, applied.campaignId, t);
    this.wakeUp();
  }

  /**
   * The candidates that may have run dry. One with a message of this instance in flight cannot
   * have (that message is `sending`) and stays a candidate: checked when the last of them has
   * settled. With pauses between two SMS of a SIM a settle is rarely followed by a claim of the
   * same campaign in its tick, so without this every SMS cost a completion check (0.85 per SMS on
   * 16 modems); now only a settle that leaves none of the campaign's messages in flight here does.
   */
  private finishable(): number[] {
    const flying = new Set<number | null>();
    for (const f of this.inFlight.values()) flying.add(f.campaignId);
    return [...this.finishCandidates].filter((id) => !flying.has(id));
  }

  private afterApplied(id: number, campaignId: number | null, t: Transition): void {
    if (campaignId !== null) this.finishCandidates.add(campaignId);
    this.log.info({ event: `send.${t.state}`, messageId: id }, t.error ?? t.state);
    this.emitState(id, campaignId, t.state);
  }

  /** Starts watching `device`'s queue for message `id` (and the poll loop, if it is not running). */
  private watchQueue(device: string, id: number): void {
    // Settled meanwhile (a delivery report faster than the ack's bookkeeping): nothing to watch.
    if (this.inFlight.get(device)?.messageId !== id) return;
    this.watched.set(device, { messageId: id, queue: newQueueWatch() });
    if (this.polling) return;
    this.polling = true;
    void this.pollQueues();
  }

  private unwatch(device: string, id: number): void {
    if (this.watched.get(device)?.messageId === id) this.watched.delete(device);
  }

  /**
   * While something is watched: DongleShowDevices (of the one device, or of all when several are
   * watched: one answer either way), each watched device's TasksInQueue through `observeQueue`,
   * and the message `sent` once it has left. Stops when nothing is watched: no polls when idle.
   * Waits in real time, like `drain`: it follows the wire (the simulator's and the modems' time),
   * and the clock is only read for `sent_at`.
   */
  private async pollQueues(): Promise<void> {
    const every = this.deps.queuePollMs ?? 500;
    try {
      for (let first = true; this.watched.size > 0; first = false) {
        if (!first) await new Promise((resolve) => setTimeout(resolve, every));
        try {
          await this.pollQueuesOnce();
        } catch (error) {
          this.log.warn({ event: 'dispatch.queue-poll-failed', err: error }, 'could not read chan_dongle queues');
        }
      }
    } finally {
      // In the same turn as the loop's last check: a watch added after it starts a new loop.
      this.polling = false;
    }
  }

  private async pollQueuesOnce(): Promise<void> {
    // Only watches that exist when the poll is written: a submit acknowledged later may not be in its answer.
    const asked = [...this.watched];
    if (asked.length === 0) return;
    const modems = await this.deps.gateway.listModems(asked.length === 1 ? asked[0]![0] : undefined);
    const settings = this.lastSettings ?? (await this.deps.settings());
    for (const [device, w] of asked) {
      if (this.watched.get(device) !== w) continue; // settled or dropped meanwhile
      const modem = modems.find((m) => m.device === device);
      if (!modem || !modem.ready) {
        // Dropped (or going): its queue may have been flushed, so no count can tell any more.
        this.dropWatch(device, 'device not ready');
        continue;
      }
      const seen = observeQueue(w.queue, modem.queue);
      w.queue = seen.watch;
      if (!seen.left) continue;
      this.watched.delete(device);
      // Not awaited in turn: one slow write must not hold back the other modems' verdicts.
      void this.settle(w.messageId, ['sending'], { state: 'sent', error: null }, settings, 'none').catch((error: unknown) =>
        this.log.error({ event: 'dispatch.sent-failed', err: error, messageId: w.messageId }, 'could not record an SMS that left the modem'),
      );
    }
  }

  /**
   * Stops watching a device whose queue can no longer prove anything (dropped by chan_dongle, or
   * AMI was away and may have missed that): its message stays `sending` until a delivery report
   * or its timeout (`unknown`), as a hung modem's does without delivery reports.
   */
  private dropWatch(device: string, reason: string): void {
    const w = this.watched.get(device);
    if (!w) return;
    this.watched.delete(device);
    this.log.warn({ event: 'dispatch.queue-watch-lost', device, messageId: w.messageId, reason }, 'cannot tell from the queue whether the SMS left the modem');
  }

  /** Our own messages past their timeout become `unknown`; with `orphans`, other instances' long-dead ones too. */
  private async settleOverdue(settings: Settings, orphans: boolean): Promise<void> {
    const now = this.deps.clock.now();
    const orphanCutoff = new Date(now.getTime() - Math.max(settings.messageTimeoutSeconds * 10_000, orphanAfterMs));
    const orphaned = !orphans
      ? 0
      : await this.deps.repo.settleOrphans(
          orphanCutoff,
          now,
          'Другая установка simcast взяла это SMS и пропала: неизвестно, ушло ли оно. Автоматически не переотправляется.',
        );
    if (orphaned > 0) {
      this.finishAll = true;
      this.log.warn({ event: 'dispatch.orphans', count: orphaned }, "another instance's in-flight messages became unknown");
    }
    const cutoff = new Date(now.getTime() - settings.messageTimeoutSeconds * 1000);
    // With delivery reports chan_dongle sends nothing until the operator's report: silence then
    // means a slow report, not a failing SIM.
    const timeoutBlame: Blame = settings.deliveryReports ? 'none' : 'sim';
    for (const { id } of await this.deps.repo.overdue(cutoff)) {
      await this.settle(
        id,
        ['sending'],
        {
          state: 'unknown',
          error: `Нет ответа от модема за ${settings.messageTimeoutSeconds} с: неизвестно, ушло ли SMS. Автоматически не переотправляется.`,
        },
        settings,
        timeoutBlame,
      );
    }
  }

  private async refreshModems(settings: Settings): Promise<void> {
    const now = this.deps.clock.now();
    try {
      this.modems = await this.deps.gateway.listModems();
      this.modemListings++;
      this.modemsFetchedAt = now.getTime();
      this.modemsDirty = false;
      const pause = defaultPauseRange(settings);
      await this.deps.sims.seen(
        this.modems.filter((m) => m.imsi).map((m) => ({ imsi: m.imsi!, device: m.device })),
        this.deps.repo.instanceId,
        now,
        { dailyLimit: settings.dailyLimit, monthlyLimit: settings.monthlyLimit, minPauseSeconds: pause.min, maxPauseSeconds: pause.max, pricePerPart: settings.pricePerPart },
      );
    } catch (error) {
      this.log.warn({ event: 'modems.refresh-failed', err: error }, 'could not list modems');
    }
  }

  private async onGatewayEvent(event: GatewayEvent): Promise<void> {
    try {
      if (event.type === 'modem-status' || event.type === 'connected') {
        // chan_dongle flushes a dropped device's queue silently: a count after this proves nothing.
        if (event.type === 'modem-status' && event.status.toLowerCase() === 'disconnect') this.dropWatch(event.device, 'device disconnected');
        this.modemsDirty = true;
        this.notify();
        return;
      }
      if (event.type === 'disconnected') {
        // Status events may be missed while AMI is away.
        for (const device of [...this.watched.keys()]) this.dropWatch(device, 'AMI disconnected');
        return;
      }
      if (event.type !== 'report') return;
      const id = this.payloads.idOf(event.messageId);
      if (id === null) return; // someone else's SMS (CLI sends use payload UNKNOWN)
      // Not read first: applied from every state in which `afterReport` leads to the same outcome
      // (a delivery report from sending, unknown or sent; the modem's own report from sending or
      // unknown), so one statement does it and a timeout that writes `unknown` meanwhile cannot
      // swallow the report. A message in any other state is left as it is.
      const t = afterReport('sending', { success: event.success, reportType: event.reportType, detail: event.detail });
      if (!t) return;
      const from: MessageState[] = event.reportType === 1 ? ['sending', 'unknown', 'sent'] : ['sending', 'unknown'];
      if (event.reportType === 1 && ![...this.inFlight.values()].some((f) => f.messageId === id)) {
        // The operator's report of an SMS that left the modem long ago (or before a restart): its
        // state only, one statement. The SIM was paced when the SMS left and may be sending another.
        const applied = await this.deps.repo.apply(id, from, t, this.deps.clock.now());
        if (applied) this.afterApplied(id, applied.campaignId, t);
        return;
      }
      // A modem's refusal (Type 0) counts against the SIM; a failed delivery is the recipient's side.
      const blame: Blame = t.state === 'failed' && event.reportType === 0 ? 'sim' : 'none';
      await this.settle(id, from, t, this.lastSettings ?? (await this.deps.settings()), blame);
    } catch (error) {
      this.log.error({ event: 'dispatch.report-failed', err: error }, 'could not apply a gateway event');
    }
  }

  private emitState(id: number, campaignId: number | null, state: MessageState): void {
    this.events.emit('message', { id, campaignId, state });
  }
}
