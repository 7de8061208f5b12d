import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GatewayEvent, ModemInfo, SmsGateway } from '../modems/sms-gateway.js';
import type { Settings } from '../settings/settings.js';
import type { DispatchRepo } from './dispatch-repo.js';
import { afterReport, afterSubmit, type MessageState, type Transition } from './message-state.js';
import { freeAtAfterSend, modemsReadyToSend, nextWakeDelayMs, type ModemSlot } from './policy.js';

/** Our message ids travel to chan_dongle as Payload `simcast-<id>` and come back in DongleReport. */
export const payloadOf = (id: number) => `simcast-${id}`;
export function messageIdOf(payload: string): number | null {
  const m = /^simcast-(\d{1,15})$/.exec(payload);
  return m ? Number(m[1]) : null;
}

export interface DispatcherEvents {
  /** A message changed state (tests and the live page await these instead of sleeping). */
  message: [{ id: number; campaignId: number; state: MessageState }];
  'campaign-finished': [{ campaignId: number }];
  tick: [];
}

export interface DispatcherDeps {
  repo: DispatchRepo;
  gateway: SmsGateway;
  clock: Clock;
  log: Logger;
  settings: () => Promise<Settings>;
  /** How often to re-read the modem list from chan_dongle even without status events. */
  modemRefreshMs?: number;
  /** Longest sleep between ticks when nothing is due. */
  idleMs?: number;
}

/**
 * Sends waiting messages of running campaigns through every ready modem, one message in flight
 * per modem. Every message is written `sending` (with its modem and this instance) before its
 * DongleSendSMS is written to AMI; its report, or the timeout, settles it. Locks are never held
 * across network I/O: the claim commits first.
 */
export class Dispatcher {
  readonly events = new EventEmitter<DispatcherEvents>();
  private readonly slots = new Map<string, ModemSlot>();
  private modems: ModemInfo[] = [];
  private modemsFetchedAt = -Infinity;
  private modemsDirty = true;
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private ticking: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: DispatcherDeps) {
    this.log = deps.log.child({ component: 'dispatcher' });
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

  /** One pass: settle overdue messages, hand a message to every free modem, finish campaigns. */
  tick(): Promise<void> {
    // Ticks never overlap: a second caller waits for the running one.
    this.ticking ??= this.doTick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Loops until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await this.recover();
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (error) {
        this.log.error({ event: 'dispatch.tick-failed', err: error }, 'dispatcher tick failed');
      }
      const delay = nextWakeDelayMs(this.slots, this.deps.clock.now(), this.deps.idleMs ?? 1000);
      await this.sleep(delay, signal);
    }
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** A hint that something changed (campaign started, modem freed): tick soon. */
  notify(): void {
    this.wake?.();
  }

  /** Modems as last seen, for the modems page. */
  knownModems(): ModemInfo[] {
    return this.modems;
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const onAbort = () => woken.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake = onAbort;
    await this.deps.clock.sleep(ms, woken.signal);
    this.wake = null;
    signal.removeEventListener('abort', onAbort);
  }

  private async doTick(): Promise<void> {
    const { repo, clock, gateway } = this.deps;
    const settings = await this.deps.settings();
    await this.settleOverdue(settings);

    if (gateway.isConnected()) {
      await this.refreshModems();
      const now = clock.now();
      const sends: Promise<void>[] = [];
      for (const device of modemsReadyToSend(this.modems, this.slots, now)) {
        const message = await repo.claimNext(device, now);
        if (!message) break;
        this.slots.set(device, { inFlight: message.id, freeAt: now });
        this.emitState(message.id, message.campaignId, 'sending');
        sends.push(this.submit(device, message.id, message.campaignId, message.phone, message.text, message.attempts, settings));
      }
      await Promise.all(sends);
    }
    for (const campaignId of await repo.finishCampaigns(clock.now())) {
      this.log.info({ event: 'campaign.finished', campaignId }, 'campaign finished');
      this.events.emit('campaign-finished', { campaignId });
    }
    this.events.emit('tick');
  }

  private async submit(
    device: string,
    id: number,
    campaignId: number,
    to: string,
    text: string,
    attempts: number,
    settings: Settings,
  ): Promise<void> {
    const result = await this.deps.gateway.submit({ messageId: payloadOf(id), device, to, text });
    const now = this.deps.clock.now();
    const t = afterSubmit(result, attempts, now);
    this.log.info({ event: 'send.submitted', messageId: id, device, result: result.kind }, 'submitted');
    if (!t) return; // queued: the report settles it
    await this.settle(id, ['sending'], t, settings);
    if (result.kind === 'refused' && result.retryable) this.modemsDirty = true;
  }

  private async settle(id: number, from: readonly MessageState[], t: Transition, settings: Settings): Promise<void> {
    const now = this.deps.clock.now();
    const applied = await this.deps.repo.apply(id, from, t, now);
    for (const [device, slot] of this.slots) {
      if (slot.inFlight === id) this.slots.set(device, { inFlight: null, freeAt: freeAtAfterSend(now, settings.sendPauseSeconds) });
    }
    if (applied) {
      this.log.info({ event: `send.${t.state}`, messageId: id }, t.error ?? t.state);
      this.emitState(id, applied.campaignId, t.state);
    }
    this.notify();
  }

  private async settleOverdue(settings: Settings): Promise<void> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - settings.messageTimeoutSeconds * 1000);
    for (const { id } of await this.deps.repo.overdue(cutoff)) {
      await this.settle(
        id,
        ['sending'],
        {
          state: 'unknown',
          error: `Нет ответа от модема за ${settings.messageTimeoutSeconds} с: неизвестно, ушло ли SMS. Автоматически не переотправляется.`,
        },
        settings,
      );
    }
  }

  private async refreshModems(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    if (!this.modemsDirty && now - this.modemsFetchedAt < (this.deps.modemRefreshMs ?? 15_000)) return;
    try {
      this.modems = await this.deps.gateway.listModems();
      this.modemsFetchedAt = now;
      this.modemsDirty = false;
    } catch (error) {
      this.log.warn({ event: 'modems.refresh-failed', err: error }, 'could not list modems');
    }
  }

  private async onGatewayEvent(event: GatewayEvent): Promise<void> {
    try {
      if (event.type === 'modem-status' || event.type === 'connected') {
        this.modemsDirty = true;
        this.notify();
        return;
      }
      if (event.type !== 'report') return;
      const id = messageIdOf(event.messageId);
      if (id === null) return; // someone else's SMS (CLI sends use payload UNKNOWN)
      const current = await this.deps.repo.stateOf(id);
      if (!current) return;
      const t = afterReport(current, { success: event.success, reportType: event.reportType, detail: event.detail });
      if (!t) return;
      await this.settle(id, [current], t, await this.deps.settings());
    } catch (error) {
      this.log.error({ event: 'dispatch.report-failed', err: error }, 'could not apply a gateway event');
    }
  }

  private emitState(id: number, campaignId: number, state: MessageState): void {
    this.events.emit('message', { id, campaignId, state });
  }
}
