import type { Knex } from 'knex';
import type { SimBudgetState } from '../scheduling/sim-budget.js';
import { dayKey, monthKey } from '../scheduling/zoned-time.js';

export interface SimRecord {
  imsi: string;
  device: string | null;
  instanceId: string | null;
  enabled: boolean;
  dailyLimit: number;
  monthlyLimit: number;
  minPauseSeconds: number;
  maxPauseSeconds: number;
  pricePerPart: number;
  nextSendAt: Date | null;
  consecutiveFailures: number;
  outOfRotationUntil: Date | null;
  lastFailure: string | null;
  lastFailureAt: Date | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Parts counted in our ledger for the current local day and month. */
  usedToday: number;
  usedThisMonth: number;
}

export interface SimDefaults {
  dailyLimit: number;
  monthlyLimit: number;
  minPauseSeconds: number;
  maxPauseSeconds: number;
  pricePerPart: number;
}

export type SimPatch = Partial<Pick<SimRecord, 'enabled' | 'dailyLimit' | 'monthlyLimit' | 'minPauseSeconds' | 'maxPauseSeconds' | 'pricePerPart'>>;

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export function toSim(row: Record<string, unknown>): SimRecord {
  return {
    imsi: row.imsi as string,
    device: (row.device as string | null) ?? null,
    instanceId: (row.instance_id as string | null) ?? null,
    enabled: Boolean(row.enabled),
    dailyLimit: Number(row.daily_limit),
    monthlyLimit: Number(row.monthly_limit),
    minPauseSeconds: Number(row.min_pause_seconds),
    maxPauseSeconds: Number(row.max_pause_seconds),
    pricePerPart: Number(row.price_per_part),
    nextSendAt: date(row.next_send_at),
    consecutiveFailures: Number(row.consecutive_failures),
    outOfRotationUntil: date(row.out_of_rotation_until),
    lastFailure: (row.last_failure as string | null) ?? null,
    lastFailureAt: date(row.last_failure_at),
    firstSeenAt: new Date(row.first_seen_at as string),
    lastSeenAt: new Date(row.last_seen_at as string),
    usedToday: Number(row.used_today ?? 0),
    usedThisMonth: Number(row.used_month ?? 0),
  };
}

/** What the pure budget rules need of a SIM. */
export function simBudgetState(sim: SimRecord): SimBudgetState {
  return {
    enabled: sim.enabled,
    dailyLimit: sim.dailyLimit,
    monthlyLimit: sim.monthlyLimit,
    usedToday: sim.usedToday,
    usedThisMonth: sim.usedThisMonth,
    nextSendAt: sim.nextSendAt,
    outOfRotationUntil: sim.outOfRotationUntil,
  };
}

/** Ledger period keys: usage is counted per local day and month of the office's time zone. */
export function periodKeys(now: Date, timeZone: string): { day: string; month: string } {
  return { day: `day:${dayKey(now, timeZone)}`, month: `month:${monthKey(now, timeZone)}` };
}

/** Selects sims with today's and this month's ledger counts. */
export function simsWithUsage(knex: Knex | Knex.Transaction, now: Date, timeZone: string) {
  const { day, month } = periodKeys(now, timeZone);
  return knex('sims as s')
    .select(
      's.*',
      knex.raw(`coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0) as used_today`, [day]),
      knex.raw(`coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0) as used_month`, [month]),
    );
}

export class SimsRepo {
  constructor(private readonly knex: Knex) {}

  /**
   * Records the SIMs chan_dongle reports. A SIM seen for the first time gets the defaults; one
   * seen again keeps its settings and only learns its current modem and instance.
   */
  async seen(sims: Array<{ imsi: string; device: string }>, instanceId: string, now: Date, defaults: SimDefaults): Promise<void> {
    if (sims.length === 0) return;
    await this.knex('sims')
      .insert(
        sims.map((s) => ({
          imsi: s.imsi,
          device: s.device,
          instance_id: instanceId,
          daily_limit: defaults.dailyLimit,
          monthly_limit: defaults.monthlyLimit,
          min_pause_seconds: defaults.minPauseSeconds,
          max_pause_seconds: defaults.maxPauseSeconds,
          price_per_part: defaults.pricePerPart,
          first_seen_at: now,
          last_seen_at: now,
        })),
      )
      .onConflict('imsi')
      .merge(['device', 'instance_id', 'last_seen_at']);
  }

  async imsis(): Promise<string[]> {
    return this.knex('sims').pluck('imsi');
  }

  async all(now: Date, timeZone: string): Promise<SimRecord[]> {
    const rows = await simsWithUsage(this.knex, now, timeZone).orderBy('s.device').orderBy('s.imsi');
    return rows.map(toSim);
  }

  async get(imsi: string, now: Date, timeZone: string): Promise<SimRecord | null> {
    const row = await simsWithUsage(this.knex, now, timeZone).where('s.imsi', imsi).first();
    return row ? toSim(row) : null;
  }

  /** Applies an admin's change; returns false when the SIM is unknown. */
  async update(imsi: string, patch: SimPatch): Promise<boolean> {
    const columns: Record<string, unknown> = {};
    if (patch.enabled !== undefined) columns.enabled = patch.enabled;
    if (patch.dailyLimit !== undefined) columns.daily_limit = patch.dailyLimit;
    if (patch.monthlyLimit !== undefined) columns.monthly_limit = patch.monthlyLimit;
    if (patch.minPauseSeconds !== undefined) columns.min_pause_seconds = patch.minPauseSeconds;
    if (patch.maxPauseSeconds !== undefined) columns.max_pause_seconds = patch.maxPauseSeconds;
    if (patch.pricePerPart !== undefined) columns.price_per_part = patch.pricePerPart;
    // Re-enabling a SIM also gives it a fresh start after a rest for failures.
    if (patch.enabled === true) Object.assign(columns, { consecutive_failures: 0, out_of_rotation_until: null });
    if (Object.keys(columns).length === 0) return (await this.knex('sims').where({ imsi }).first('imsi')) !== undefined;
    return (await this.knex('sims').where({ imsi }).update(columns)) > 0;
  }
}
