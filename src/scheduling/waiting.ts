/**
 * Why a running campaign is not sending, and when it will go on by itself — what the campaign page
 * and `GET /api/v1/campaigns/{id}` (`waiting: {reason, until}`) show.
 */
import { waitingWords, whenAt, type WaitingLimitWord } from '../i18n/scheduling-words.js';
import { isInsideWindow, nextWindowOpen, type SendingWindow } from './sending-window.js';
import { simAvailability, type SimBlockReason, type SimBudgetState } from './sim-budget.js';
import { localDaysBetween, localParts } from './zoned-time.js';

/** A SIM as the waiting check sees it: its budget, and whether its modem is registered and connected now. */
export type WaitingSim = SimBudgetState & { ready: boolean };

export interface WaitingInput {
  now: Date;
  timeZone: string;
  /** null: the campaign ignores the window. */
  window: SendingWindow | null;
  /** 'draft' | 'running' | 'paused' | 'finished' | 'cancelled' (src/campaigns/campaign.ts). */
  campaignStatus: string;
  /** The SIMs this campaign may use (all of them, or those it was restricted to). */
  sims: readonly WaitingSim[];
  /** Whether any of its messages is still `waiting`. */
  hasWaitingMessages: boolean;
}

/**
 * - `paused`: staff paused it; goes on when they press «Продолжить» (until null);
 * - `window`: outside the sending window; until it opens;
 * - `limits`: every usable SIM is out of its daily or monthly limit (or resting after failures
 *   while others are out of limits); until the first of them can send again, inside the window;
 * - `no-sims`: no enabled SIM in a ready modem (until null), or every usable SIM is resting after
 *   failures (until the first one returns).
 */
export type WaitingReason = 'window' | 'limits' | 'no-sims' | 'paused';

export interface Waiting {
  reason: WaitingReason;
  until: Date | null;
  /** One Russian sentence for the page. */
  text: string;
}

function describeWhen(until: Date, now: Date, tz: string): string {
  return whenAt(localParts(until, tz), localDaysBetween(now, until, tz), localParts(now, tz).year);
}

/**
 * Why the campaign waits, or null when it is sending (some usable SIM can send, or is only in its
 * pause between sends, inside the window) or has nothing to wait for (not running, nothing left).
 *
 * When several things hold it back, the one that ends last is reported, since that is when it
 * will really continue: at 22:00 with every SIM's day used up, it waits for the window (09:00),
 * not for midnight.
 */
export function whyWaiting(input: WaitingInput): Waiting | null {
  const { now, timeZone: tz, window } = input;
  if (input.campaignStatus === 'paused') return { reason: 'paused', until: null, text: waitingWords.paused };
  if (input.campaignStatus !== 'running' || !input.hasWaitingMessages) return null;

  const windowOpen = window === null || isInsideWindow(now, window, tz);
  const windowOpensAt = window === null || windowOpen ? now : nextWindowOpen(now, window, tz);
  const windowWait = (): Waiting => ({
    reason: 'window',
    until: windowOpensAt,
    text: waitingWords.window(describeWhen(windowOpensAt, now, tz)),
  });

  const usable = input.sims.filter((s) => s.enabled && s.ready);
  if (usable.length === 0) {
    return {
      reason: 'no-sims',
      until: null,
      text: waitingWords.noSims(windowOpen ? null : describeWhen(windowOpensAt, now, tz)),
    };
  }

  let firstFree: Date | null = null;
  const reasons = new Set<SimBlockReason>();
  for (const sim of usable) {
    const a = simAvailability(sim, now, tz);
    // A SIM in its pause between sends is sending at its pace: the campaign is not waiting.
    if (a.ok || a.reason === 'pause') return windowOpen ? null : windowWait();
    reasons.add(a.reason);
    if (a.until && (!firstFree || a.until.getTime() < firstFree.getTime())) firstFree = a.until;
  }
  // Every usable SIM is limited or resting; both always carry an `until`.
  if (!firstFree) return { reason: 'no-sims', until: null, text: waitingWords.noSims(null) };
  if (!windowOpen && windowOpensAt.getTime() >= firstFree.getTime()) return windowWait();
  const until = window === null ? firstFree : nextWindowOpen(firstFree, window, tz);
  const when = describeWhen(until, now, tz);

  const resting = reasons.has('out-of-rotation');
  if (resting && reasons.size === 1) return { reason: 'no-sims', until, text: waitingWords.resting(when) };
  if (resting) return { reason: 'limits', until, text: waitingWords.limitsOrRest(when) };
  const kind: WaitingLimitWord = reasons.size > 1 ? 'mixed' : reasons.has('monthly-limit') ? 'monthly' : 'daily';
  return { reason: 'limits', until, text: waitingWords.limits(kind, when) };
}
