import type { ModemInfo } from '../modems/sms-gateway.js';

/** What the dispatcher remembers of one modem between ticks. */
export interface ModemSlot {
  /** The message it is sending now (one in flight per modem), or null. */
  inFlight: number | null;
  /** Not before this time may it take the next message (the pause between sends). */
  freeAt: Date;
}

/**
 * Which modems may take a message now: chan_dongle reports them sendable, they have nothing in
 * flight (chan_dongle's own queue is unbounded and lost on a hang, so we hand it one SMS at a
 * time), and their pause has passed. Sorted by device so the choice is deterministic.
 */
export function modemsReadyToSend(modems: readonly ModemInfo[], slots: ReadonlyMap<string, ModemSlot>, now: Date): string[] {
  return modems
    .filter((m) => m.ready)
    .filter((m) => {
      const slot = slots.get(m.device);
      return !slot || (slot.inFlight === null && slot.freeAt.getTime() <= now.getTime());
    })
    .map((m) => m.device)
    .sort();
}

/** When a modem that just finished a message may send again. */
export function freeAtAfterSend(now: Date, pauseSeconds: number): Date {
  return new Date(now.getTime() + pauseSeconds * 1000);
}

/** How long the loop may sleep: until the earliest modem frees up, capped. */
export function nextWakeDelayMs(slots: ReadonlyMap<string, ModemSlot>, now: Date, capMs: number): number {
  let delay = capMs;
  for (const slot of slots.values()) {
    if (slot.inFlight !== null) continue;
    delay = Math.min(delay, Math.max(0, slot.freeAt.getTime() - now.getTime()));
  }
  return delay;
}
