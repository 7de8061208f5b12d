/**
 * What one SIM card may send now: its daily and monthly limits (in SMS parts), its pause between
 * sends, and whether it is resting after repeated failures. Operators block SIMs that send too
 * much or too fast, so these are hard limits, never "about".
 */
import { startOfNextDay, startOfNextMonth } from './zoned-time.js';

/**
 * One SIM's ledger and settings as the dispatcher sees them. `usedToday` and `usedThisMonth`
 * must be the counters of the local day and month that contain `now` (the ledger keys them by
 * `dayKey`/`monthKey`, so a counter from yesterday is read as 0, not passed in here).
 */
export interface SimBudgetState {
  enabled: boolean;
  /** Parts per local day. */
  dailyLimit: number;
  /** Parts per local month. */
  monthlyLimit: number;
  usedToday: number;
  usedThisMonth: number;
  /** The pause after its last send ends at this time (null: no pause pending). */
  nextSendAt: Date | null;
  /** Resting after repeated failures until this time (null: in rotation). */
  outOfRotationUntil: Date | null;
}

/** Why a SIM may not send now. */
export type SimBlockReason = 'disabled' | 'out-of-rotation' | 'pause' | 'daily-limit' | 'monthly-limit';

/** Whether a SIM may send now and how many parts; if not, why and until when (null: until someone acts). */
export type SimAvailability =
  | { ok: true; budget: number }
  | { ok: false; reason: SimBlockReason; until: Date | null };

/** Parts the SIM may still send today: the smaller of what is left of its day and of its month, never below 0. */
export function remainingParts(sim: Pick<SimBudgetState, 'dailyLimit' | 'monthlyLimit' | 'usedToday' | 'usedThisMonth'>): number {
  const left = Math.min(sim.dailyLimit - sim.usedToday, sim.monthlyLimit - sim.usedThisMonth);
  return Number.isFinite(left) && left > 0 ? Math.floor(left) : 0;
}

/**
 * Whether `sim` may send at `now`, with its budget in parts. When several things block it, the
 * one that lasts longest is reported, because its `until` is the earliest the SIM can send again
 * (a SIM out of its day and resting for 30 minutes still waits for midnight). A disabled SIM
 * waits for the admin, so that one wins outright with `until: null`.
 */
export function simAvailability(sim: SimBudgetState, now: Date, tz: string): SimAvailability {
  if (!sim.enabled) return { ok: false, reason: 'disabled', until: null };
  const t = now.getTime();
  const blocks: Array<{ reason: SimBlockReason; until: Date }> = [];
  // Monthly before daily: on equal `until` (the last day of a month) the month is the real reason.
  if (sim.usedThisMonth >= sim.monthlyLimit) blocks.push({ reason: 'monthly-limit', until: startOfNextMonth(now, tz) });
  if (sim.usedToday >= sim.dailyLimit) blocks.push({ reason: 'daily-limit', until: startOfNextDay(now, tz) });
  if (sim.outOfRotationUntil && sim.outOfRotationUntil.getTime() > t) blocks.push({ reason: 'out-of-rotation', until: sim.outOfRotationUntil });
  if (sim.nextSendAt && sim.nextSendAt.getTime() > t) blocks.push({ reason: 'pause', until: sim.nextSendAt });
  let worst: { reason: SimBlockReason; until: Date } | undefined;
  for (const b of blocks) if (!worst || b.until.getTime() > worst.until.getTime()) worst = b;
  if (worst) return { ok: false, ...worst };
  const budget = remainingParts(sim);
  // Unreachable with integer counters (both limits checked above); kept so a fractional or
  // NaN limit can never yield `ok` with nothing to spend.
  if (budget <= 0) return { ok: false, reason: 'daily-limit', until: startOfNextDay(now, tz) };
  return { ok: true, budget };
}

/**
 * The pause after a send, in ms, drawn uniformly between `minSeconds` and `maxSeconds`
 * (`random` returns [0, 1) like Math.random). Random, not fixed: operators flag SIMs that send at
 * a machine's steady beat. Swapped bounds are tolerated; negatives count as 0.
 */
export function drawPauseMs(minSeconds: number, maxSeconds: number, random: () => number): number {
  const lo = Math.max(0, Math.min(minSeconds, maxSeconds));
  const hi = Math.max(0, Math.max(minSeconds, maxSeconds));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round((lo + r * (hi - lo)) * 1000);
}

/** When a SIM that keeps failing is taken out of rotation, and for how long. */
export interface RotationPolicy {
  /** Failures in a row that send the SIM to rest. */
  failuresBeforeRest: number;
  /** The first rest. */
  restMinutes: number;
  /** Rests double with each further failure up to this. */
  maxRestMinutes: number;
}

export const defaultRotationPolicy: RotationPolicy = Object.freeze({ failuresBeforeRest: 3, restMinutes: 30, maxRestMinutes: 240 });

/**
 * Until when a SIM rests after `consecutiveFailures` failed sends in a row, or null if it stays in
 * rotation. A modem out of money or off the network fails every send, and its traffic is better
 * off on the other SIMs; the rest doubles with each failure after it returns (3 → 30 min,
 * 4 → 60, 5 → 120, … capped), so a dead SIM is retried rarely but never forgotten.
 */
export function rotationAfterFailure(consecutiveFailures: number, now: Date, policy: RotationPolicy = defaultRotationPolicy): Date | null {
  if (!(consecutiveFailures >= policy.failuresBeforeRest) || policy.restMinutes <= 0) return null;
  // Cap the exponent before Math.pow so a counter in the thousands stays a finite number.
  const doublings = Math.min(consecutiveFailures - policy.failuresBeforeRest, 30);
  const minutes = Math.min(policy.restMinutes * 2 ** doublings, Math.max(policy.maxRestMinutes, policy.restMinutes));
  return new Date(now.getTime() + minutes * 60_000);
}
