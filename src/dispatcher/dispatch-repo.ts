import type { Knex } from 'knex';
import { drawPauseMs, simAvailability } from '../scheduling/sim-budget.js';
import { periodKeys, simBudgetState, simsWithUsage, toSim, type SimRecord } from '../sims/sims-repo.js';
import { ComplianceRepo, numberLockSql } from '../compliance/compliance-repo.js';
import { recipientExclusion, type Exclusion, type MessageKind } from '../compliance/consent.js';
import { PhoneKeys } from '../compliance/phone-keys.js';
import type { MessageState, Transition } from './message-state.js';

/** A message claimed for one SIM: written as `sending` before its DongleSendSMS goes out. */
export interface ClaimedMessage {
  id: number;
  campaignId: number | null;
  phone: string;
  text: string;
  parts: number;
  attempts: number;
}

/** What the claim needs to know besides the SIM: all decided by the caller from settings and now. */
export interface ClaimContext {
  now: Date;
  timeZone: string;
  /** Whether the sending window is open now. */
  windowOpen: boolean;
  /** Whether notifications may go while the window is closed. */
  notificationsIgnoreWindow: boolean;
  /** Largest message (in parts) this SIM may take; e.g. 1 on classic chan_dongle builds. */
  maxPartsPerMessage: number;
  random: () => number;
}

/**
 * `skipped`: messages the claim found excluded (stop-list, consent) and settled as `skipped`.
 * `busy`: more may be claimable at once (the skip cap was reached): the dispatcher should look
 * again without waiting for its idle sleep.
 */
export type ClaimOutcome =
  | { kind: 'claimed'; message: ClaimedMessage; sim: SimRecord; skipped: SkippedAtClaim[] }
  | { kind: 'sim-unavailable'; reason: string; until: Date | null }
  | { kind: 'nothing'; skipped: SkippedAtClaim[]; busy?: boolean };

export interface SkippedAtClaim {
  id: number;
  campaignId: number | null;
}

/** How many excluded messages one claim transaction settles before it gives the SIM back. */
const maxSkipsPerClaim = 100;

/**
 * The dispatcher's SQL. Every statement takes `now` from the caller (never SQL now()), so the
 * same queries run under a fake clock in tests.
 */
export class DispatchRepo {
  private readonly compliance: ComplianceRepo;

  constructor(
    private readonly knex: Knex,
    readonly instanceId: string,
    private readonly phoneKeys = new PhoneKeys(),
  ) {
    this.compliance = new ComplianceRepo(knex);
  }

  /**
   * After a crash or restart: messages this instance left in `sending` may or may not have
   * reached chan_dongle. They become `unknown`, never re-sent automatically. Other instances'
   * rows are left alone (they may still be running).
   */
  async recoverInFlight(now: Date, reason: string): Promise<number> {
    return this.knex('messages')
      .where({ state: 'sending', instance_id: this.instanceId })
      .update({ state: 'unknown', error: reason, finished_at: now });
  }

  /**
   * One short transaction per SIM: lock the SIM row, decide from its ledger whether it may send
   * now (pure `simAvailability`), claim the next waiting message that fits its budget, reserve the
   * message's parts in the ledger and set the SIM's next slot. Two campaigns, notifications and
   * several instances all go through the SIM row lock, so a limit can never be overrun.
   * SKIP LOCKED lets instances claim side by side without ever taking the same message; checking
   * the campaign's status here makes pause and cancel act before the next message.
   */
  async claimForSim(imsi: string, device: string, ctx: ClaimContext): Promise<ClaimOutcome> {
    return this.knex.transaction(async (trx) => {
      // The SIM row lock serialises every claim on this SIM (all campaigns, notifications,
      // instances). The ledger is read in a statement AFTER the lock is held: in READ COMMITTED a
      // statement that waited for the lock would still see the ledger as it was when it began.
      const locked = await trx('sims').where({ imsi }).forUpdate().first('imsi');
      if (!locked) return { kind: 'sim-unavailable', reason: 'unknown-sim', until: null };
      const sim = toSim(await simsWithUsage(trx, ctx.now, ctx.timeZone).where('s.imsi', imsi).first());
      const availability = simAvailability(simBudgetState(sim), ctx.now, ctx.timeZone);
      if (!availability.ok) return { kind: 'sim-unavailable', reason: availability.reason, until: availability.until };
      const budget = Math.min(availability.budget, ctx.maxPartsPerMessage);

      // The stop-list and consent are checked again in the claim itself: an opt-out that arrived
      // after the campaign started (or one another instance just recorded) stops the message here.
      // The claim only takes a message whose number it can lock (shared): an opt-out or erasure
      // still being written holds that lock exclusively, so its number is passed over, like a
      // locked row, and the facts read after the claim include everything committed before it.
      const skipped: SkippedAtClaim[] = [];
      for (;;) {
        const row = await this.claimNextMessage(trx, imsi, device, budget, sim.pricePerPart, ctx);
        if (!row) return { kind: 'nothing', skipped };
        const exclusion = await this.exclusionOf(trx, row, ctx.now);
        if (!exclusion) return { kind: 'claimed', message: await this.reserveFor(trx, row, sim, ctx), sim, skipped };
        await trx('messages').where({ id: row.id }).update({
          state: 'skipped', error: exclusion.text, finished_at: ctx.now, modem: null, imsi: null, instance_id: null,
          price_per_part: null, claimed_at: null, attempts: row.attempts - 1,
        });
        skipped.push({ id: Number(row.id), campaignId: row.campaign_id ?? null });
        if (skipped.length >= maxSkipsPerClaim) return { kind: 'nothing', skipped, busy: true };
      }
    });
  }

  /** The claimed message's parts go into the SIM's ledger and the SIM's next slot is set. */
  private async reserveFor(
    trx: Knex.Transaction,
    row: { id: number | string; campaign_id: number | null; phone: string; text: string; parts: number; attempts: number },
    sim: SimRecord,
    ctx: ClaimContext,
  ): Promise<ClaimedMessage> {
    const message: ClaimedMessage = {
      id: Number(row.id),
      campaignId: row.campaign_id ?? null,
      phone: row.phone,
      text: row.text,
      parts: row.parts,
      attempts: row.attempts,
    };
    await this.reserve(trx, sim.imsi, message.parts, ctx);
    const pauseMs = drawPauseMs(sim.minPauseSeconds, sim.maxPauseSeconds, ctx.random);
    await trx('sims').where({ imsi: sim.imsi }).update({ next_send_at: new Date(ctx.now.getTime() + pauseMs) });
    return message;
  }

  /** Why a just-claimed message must not go (pure `recipientExclusion` over facts read in the claim), or null. */
  private async exclusionOf(
    trx: Knex.Transaction,
    row: { phone: string; campaign_id: number | null; purpose: string; kind: string | null },
    now: Date,
  ): Promise<Exclusion | null> {
    if (row.purpose === 'opt-out-confirmation') return null;
    const kind: MessageKind = row.campaign_id === null ? 'notification' : (row.kind as MessageKind);
    // Only an erased message carries something else than E.164 (a marker): never send it.
    if (!/^\+\d{8,15}$/.test(row.phone)) return recipientExclusion({ kind, stopListed: false, suppressed: true, consented: false });
    const facts = await this.compliance.recipientFacts(trx, row.phone, await this.phoneKeys.keyOf(trx, row.phone), now);
    return recipientExclusion({ kind, ...facts });
  }

  /**
   * Notifications first, then running campaigns in the order they were started. Each candidate
   * campaign is one indexed probe (`messages_waiting` on campaign_id, id): ordering across the
   * join in one statement made PostgreSQL sort every waiting row on every claim (33 ms per claim
   * with 100k waiting, measured by bench/dispatch).
   */
  private async claimNextMessage(trx: Knex.Transaction, imsi: string, device: string, budget: number, price: number, ctx: ClaimContext) {
    const claim = (where: string, bindings: Knex.RawBinding[], order: string) =>
      trx.raw(
        `update messages set state = 'sending', modem = ?, imsi = ?, instance_id = ?, claimed_at = ?,
                attempts = attempts + 1, error = null, price_per_part = ?
          where id = (
            -- The number lock is tried on the one row chosen (a filter outside the LIMIT), never
            -- on every row the scan passes: an opt-out being written makes this probe find nothing.
            select candidate.id from (
              select id, phone from messages
               where state = 'waiting' and (not_before is null or not_before <= ?) and parts <= ? and ${where}
               order by ${order}
               for update skip locked
               limit 1) candidate
             where pg_try_advisory_xact_lock_shared(${numberLockSql('candidate.phone')}))
          returning id, campaign_id, phone, text, parts, attempts, purpose,
                    (select c.kind from campaigns c where c.id = messages.campaign_id) as kind`,
        [device, imsi, this.instanceId, ctx.now, price, ctx.now, budget, ...bindings],
      );
    // Outside the window a notification goes if its template says any hour (keep_window false), or
    // it follows the setting (null) and the setting lets notifications go at any hour.
    const notifications = ctx.windowOpen
      ? await claim('campaign_id is null', [], 'priority desc, id')
      : await claim('campaign_id is null and (keep_window = false or (keep_window is null and ?))', [ctx.notificationsIgnoreWindow], 'priority desc, id');
    if (notifications.rows[0]) return notifications.rows[0];
    const campaigns: Array<{ id: number; ignore_window: boolean; sims: string[] | null }> = await trx('campaigns')
      .where({ status: 'running' })
      .orderBy([{ column: 'started_at' }, { column: 'id' }])
      .select('id', 'ignore_window', 'sims');
    for (const c of campaigns) {
      if (!ctx.windowOpen && !c.ignore_window) continue;
      if (c.sims && !c.sims.includes(imsi)) continue;
      // The status is checked again inside the claim: a pause committed meanwhile wins.
      const result = await claim(
        `campaign_id = ? and exists (select 1 from campaigns c where c.id = messages.campaign_id and c.status = 'running')`,
        [c.id],
        'id',
      );
      if (result.rows[0]) return result.rows[0];
    }
    return null;
  }

  private async reserve(trx: Knex.Transaction, imsi: string, parts: number, ctx: ClaimContext): Promise<void> {
    const { day, month } = periodKeys(ctx.now, ctx.timeZone);
    await trx.raw(
      `insert into sim_usage (imsi, period, parts) values (?, ?, ?), (?, ?, ?)
       on conflict (imsi, period) do update set parts = sim_usage.parts + excluded.parts`,
      [imsi, day, parts, imsi, month, parts],
    );
  }

  /**
   * Applies a transition if the message is still in one of `from`. `release`: chan_dongle refused
   * the action, nothing was sent, so the parts reserved at the claim go back to the SIM's ledger
   * (for the period of the claim).
   */
  async apply(
    id: number,
    from: readonly MessageState[],
    t: Transition,
    now: Date,
    options: { release?: { timeZone: string } } = {},
  ): Promise<{ campaignId: number | null; imsi: string | null } | null> {
    return this.knex.transaction(async (trx) => {
      const patch: Record<string, unknown> = { state: t.state, error: t.error };
      if (t.state === 'waiting') {
        patch.not_before = t.notBefore;
        patch.modem = null;
      } else {
        patch.finished_at = now;
      }
      if (t.state === 'sent') patch.sent_at = now;
      const rows = await trx('messages')
        .where({ id })
        .whereIn('state', from)
        .update(patch)
        .returning(['campaign_id', 'imsi', 'parts', 'claimed_at']);
      const row = rows[0];
      if (!row) return null;
      if (options.release && row.imsi && row.claimed_at) {
        const { day, month } = periodKeys(new Date(row.claimed_at), options.release.timeZone);
        await trx('sim_usage')
          .where({ imsi: row.imsi })
          .whereIn('period', [day, month])
          .update({ parts: trx.raw('greatest(parts - ?, 0)', [row.parts]) });
      }
      return { campaignId: row.campaign_id ?? null, imsi: row.imsi ?? null };
    });
  }

  async stateOf(id: number): Promise<MessageState | null> {
    const row = await this.knex('messages').where({ id }).first('state');
    return row ? (row.state as MessageState) : null;
  }

  /**
   * `sending` messages of OTHER instances claimed before `cutoff` (far beyond any report
   * timeout): their instance died and never came back to settle them, and the campaign would
   * otherwise never finish. They become `unknown`, like our own after a restart.
   */
  async settleOrphans(cutoff: Date, now: Date, reason: string): Promise<number> {
    return this.knex('messages')
      .where({ state: 'sending' })
      .whereNot({ instance_id: this.instanceId })
      .andWhere('claimed_at', '<=', cutoff)
      .update({ state: 'unknown', error: reason, finished_at: now });
  }

  /** This instance's `sending` messages claimed before `cutoff`. */
  async overdue(cutoff: Date): Promise<Array<{ id: number }>> {
    const rows = await this.knex('messages')
      .where({ state: 'sending', instance_id: this.instanceId })
      .andWhere('claimed_at', '<=', cutoff)
      .select('id');
    return rows.map((r: { id: unknown }) => ({ id: Number(r.id) }));
  }

  /** The SIM's pacing after a message settled: the pause runs from now, failures are counted. */
  async afterSend(imsi: string, nextSendAt: Date, failure: { reason: string; outOfRotationUntil: Date | null } | null, now: Date): Promise<void> {
    if (!failure) {
      // A success ends a rest early too: the SIM works again.
      await this.knex('sims').where({ imsi }).update({ next_send_at: nextSendAt, consecutive_failures: 0, out_of_rotation_until: null });
      return;
    }
    await this.knex('sims')
      .where({ imsi })
      .update({
        next_send_at: nextSendAt,
        consecutive_failures: this.knex.raw('consecutive_failures + 1'),
        last_failure: failure.reason.slice(0, 500),
        last_failure_at: now,
        out_of_rotation_until: failure.outOfRotationUntil,
      });
  }

  /** The earliest future `not_before` among waiting messages (a retry's backoff), for the loop's sleep. */
  async nextRetryAt(now: Date): Promise<Date | null> {
    const row = await this.knex('messages').where({ state: 'waiting' }).andWhere('not_before', '>', now).min('not_before as at').first();
    return row?.at ? new Date(row.at) : null;
  }

  /**
   * Whether anything could be sent at all: a waiting notification, or a waiting message of a
   * running campaign. Probes by index (paused campaigns with many waiting rows cost nothing).
   */
  async hasWork(): Promise<boolean> {
    const result = await this.knex.raw(
      `select exists (select 1 from messages where state = 'waiting' and campaign_id is null)
           or exists (select 1 from campaigns c where c.status = 'running'
                        and exists (select 1 from messages m where m.campaign_id = c.id and m.state = 'waiting')) as work`,
    );
    return Boolean(result.rows[0]?.work);
  }

  /** Running campaigns with nothing left waiting or sending become `finished`. */
  async finishCampaigns(now: Date): Promise<number[]> {
    const rows = await this.knex('campaigns as c')
      .where('c.status', 'running')
      .whereNotExists((q) => q.from('messages as m').whereRaw('m.campaign_id = c.id').whereIn('m.state', ['waiting', 'sending']))
      .update({ status: 'finished', finished_at: now })
      .returning('id');
    return rows.map((r: { id: number }) => r.id);
  }
}
