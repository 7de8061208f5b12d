import type { Knex } from 'knex';
import { drawPauseMs, simAvailability } from '../scheduling/sim-budget.js';
import { periodKeys, simBudgetState, toSim, type SimRecord } from '../sims/sims-repo.js';
import { consentedSql, numberLockSql } from '../compliance/compliance-repo.js';
import { recipientExclusion, type Exclusion, type MessageKind } from '../compliance/consent.js';
import { PhoneKeys } from '../compliance/phone-keys.js';
import type { MessageState, Transition } from './message-state.js';
import { hotSql, type HotSql, type Row, type Run, type SqlTransaction, type Statement } from './hot-sql.js';

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
  /**
   * Running campaigns as the caller last read them (`runningCampaigns`), so a tick reads them
   * once rather than once per claim; without it the claim reads them itself. A campaign paused
   * since is still passed over: the claim re-checks its status.
   */
  campaigns?: readonly RunningCampaign[];
  /**
   * False when the caller knows no notification waits (its last probe found none and nothing was
   * queued since): the claim then skips the notification probe. Default: probe.
   */
  notificationsMayWait?: boolean;
}

/** A running campaign, in the order campaigns are served (started first, first). */
export interface RunningCampaign {
  id: number;
  ignoreWindow: boolean;
  sims: string[] | null;
}

/**
 * `skipped`: messages the claim found excluded (stop-list, consent) and settled as `skipped`.
 * `busy`: more may be claimable at once (the skip cap was reached): the dispatcher should look
 * again without waiting for its idle sleep.
 */
export type ClaimOutcome =
  | { kind: 'claimed'; message: ClaimedMessage; sim: SimRecord; skipped: SkippedAtClaim[]; noNotifications?: boolean }
  | { kind: 'sim-unavailable'; reason: string; until: Date | null }
  | { kind: 'nothing'; skipped: SkippedAtClaim[]; busy?: boolean; noNotifications?: boolean };

export interface SkippedAtClaim {
  id: number;
  campaignId: number | null;
}

/** A message skipped at its claim sheds what the claim wrote: it was never this SIM's, nor tried. */
const unclaimed = 'modem = null, imsi = null, instance_id = null, price_per_part = null, claimed_at = null, attempts = attempts - 1';

/** How many excluded messages one `claimForSim` settles (a transaction each) before it gives the SIM back. */
const maxSkipsPerClaim = 100;

/**
 * The dispatcher's SQL. Every statement takes `now` from the caller (never SQL now()), so the
 * same queries run under a fake clock in tests.
 */
export class DispatchRepo {
  /** The hot path's statements (claim, report): pg's own queries on PostgreSQL, knex on PGlite. */
  private readonly sql: HotSql;
  /** SIMs whose last claim found them unavailable: their next claim locks and looks first (see `claimOnce`). */
  private readonly unavailable = new Set<string>();

  constructor(
    private readonly knex: Knex,
    readonly instanceId: string,
    private readonly phoneKeys = new PhoneKeys(),
  ) {
    this.sql = hotSql(knex);
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
    // The phone-key secret is read before the claim holds a connection: claims side by side, each
    // waiting inside its transaction for a second connection, could take the whole pool.
    if (this.sql.pooled) await this.phoneKeys.load(this.knex);
    // An excluded message is settled `skipped` by the statement that found it excluded, which also
    // commits: the next message is claimed in a new transaction (rare: Start already skips the
    // stop-list and missing consents; this catches what changed since).
    const skipped: SkippedAtClaim[] = [];
    // The budget the first claim of a transaction assumes: the most any message may take, until a
    // claim finds more parts than the SIM's ledger allows (rolled back), then that ledger's budget.
    let budget = ctx.maxPartsPerMessage;
    for (;;) {
      const outcome = await this.sql.transaction((trx) => this.claimOnce(trx, imsi, device, ctx, budget));
      if (outcome.kind === 'over-budget') {
        budget = outcome.budget;
        continue;
      }
      if (outcome.kind !== 'skipped') {
        if (outcome.kind !== 'sim-unavailable') return { ...outcome, skipped };
        // The SIM became unavailable after a skip (another claim took its slot): report the skips; look again soon.
        return skipped.length === 0 ? outcome : { kind: 'nothing', skipped, busy: true };
      }
      skipped.push(outcome.message);
      const seen = outcome.noNotifications ? { noNotifications: true } : {};
      if (skipped.length >= maxSkipsPerClaim) return { kind: 'nothing', skipped, busy: true, ...seen };
    }
  }

  /**
   * One claim transaction: lock the SIM, decide its budget, claim the next message, then either
   * reserve its parts or (its recipient excluded) settle it `skipped` — that last statement commits.
   * The SIM's lock and the first claim travel in one round trip, the claim running after the lock
   * (a statement of its own) with `assumedBudget`, the most the SIM's ledger may allow; when the
   * ledger, read under the lock, says the SIM may not send, or allows fewer parts than the claimed
   * message has, the transaction rolls back (nothing was written) — the latter to be claimed again
   * with the ledger's budget (`over-budget`).
   */
  private async claimOnce(
    trx: SqlTransaction,
    imsi: string,
    device: string,
    ctx: ClaimContext,
    assumedBudget: number,
  ): Promise<ClaimOutcome | { kind: 'skipped'; message: SkippedAtClaim; noNotifications: boolean } | { kind: 'over-budget'; budget: number }> {
    const attempts = this.claimAttempts(imsi, ctx);
    // A SIM whose last claim found it unavailable (disabled, at its limit, resting) is looked at
    // before anything is claimed for it: a claim made only to be rolled back costs the database
    // a row version, its count deltas and their undoing, on every tick until the SIM may send.
    const first = this.unavailable.has(imsi) ? undefined : attempts[0];
    const [simRows, firstRows] = await trx.runInOrder([
      this.lockSimStatement(imsi, ctx, true),
      ...(first ? [this.claimStatement(first, imsi, device, assumedBudget, ctx)] : []),
    ]);
    const sim = await this.freshSim(trx, simRows![0], imsi, ctx);
    const firstRow = (firstRows?.[0] as ClaimedRow | undefined) ?? null;
    if (!sim) {
      trx.rollbackAtEnd();
      return { kind: 'sim-unavailable', reason: 'unknown-sim', until: null };
    }
    const availability = simAvailability(simBudgetState(sim), ctx.now, ctx.timeZone);
    if (!availability.ok) {
      this.unavailable.add(imsi);
      trx.rollbackAtEnd();
      return { kind: 'sim-unavailable', reason: availability.reason, until: availability.until };
    }
    this.unavailable.delete(imsi);
    const budget = Math.min(availability.budget, ctx.maxPartsPerMessage);
    if (firstRow && firstRow.parts > budget) {
      trx.rollbackAtEnd();
      return { kind: 'over-budget', budget };
    }

    // The stop-list and consent are checked again in the claim itself: an opt-out that arrived
    // after the campaign started (or one another instance just recorded) stops the message here.
    // The claim only takes a message whose number it can lock (shared): an opt-out or erasure
    // still being written holds that lock exclusively, so its number is passed over, like a
    // locked row, and the facts read after the claim include everything committed before it.
    const next = firstRow
      ? { row: firstRow, noNotifications: ctx.notificationsMayWait === false }
      : await this.claimNextMessage(trx, imsi, device, budget, ctx, attempts, first !== undefined);
    const row = next.row;
    // `noNotifications` only when true: a plain outcome stays as it always was.
    const seen = next.noNotifications ? { noNotifications: true } : {};
    if (!row) return { kind: 'nothing', skipped: [], ...seen };
    const pauseMs = drawPauseMs(sim.minPauseSeconds, sim.maxPauseSeconds, ctx.random);
    const exclusion = await this.reserveUnlessExcluded(trx, row, sim.imsi, new Date(ctx.now.getTime() + pauseMs), ctx);
    if (!exclusion) return { kind: 'claimed', message: toClaimed(row), sim, skipped: [], ...seen };
    return { kind: 'skipped', message: { id: Number(row.id), campaignId: row.campaign_id ?? null }, noNotifications: next.noNotifications };
  }

  /**
   * Locks the SIM row (serialising every claim on this SIM: all campaigns, notifications,
   * instances) and reads it with its ledger. In READ COMMITTED a statement sees the ledger as it
   * was when the statement began, so a statement that WAITED for the lock could miss the parts
   * the lock holder just reserved. Every reservation also writes the SIM row (its next slot), so
   * the row version the lock returns differs from the one in the statement's snapshot exactly
   * when a write committed in between: only then is the ledger read again (`freshSim`), now under
   * the lock.
   */
  private lockSimStatement(imsi: string, ctx: ClaimContext, lock: boolean): Statement {
    const { day, month } = periodKeys(ctx.now, ctx.timeZone);
    return {
      text: `select s.*,
                coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0) as used_today,
                coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0) as used_month,
                (select x.xmin from sims x where x.imsi = s.imsi) = s.xmin as fresh
           from sims s where s.imsi = ?${lock ? ' for update' : ''}`,
      values: [day, month, imsi],
    };
  }

  /** The SIM as the lock statement read it, or read again under the lock if a claim committed meanwhile. */
  private async freshSim(trx: SqlTransaction, row: Row | undefined, imsi: string, ctx: ClaimContext): Promise<SimRecord | null> {
    if (!row) return null;
    if (row.fresh === true) return toSim(row);
    // The lock is held now: a new statement sees every reservation committed before it.
    const again = this.lockSimStatement(imsi, ctx, false);
    return toSim((await trx.run(again.text, again.values))[0]!);
  }

  /**
   * The claimed message's recipient facts (stop-list, suppression, consent) are read and, if the
   * pure `recipientExclusion` lets them through, its parts go into the SIM's ledger and the SIM's
   * next slot is set; if not, the message is settled `skipped` with the policy's reason — one
   * statement, the transaction's last (it commits). The policy stays in TypeScript: the statement
   * gets the fact combinations it allows and the reason for each other one. Returns why the
   * message must not go, or null (reserved).
   */
  private async reserveUnlessExcluded(
    trx: SqlTransaction,
    row: ClaimedRow,
    imsi: string,
    nextSendAt: Date,
    ctx: ClaimContext,
  ): Promise<Exclusion | null> {
    const kind: MessageKind = row.purpose === 'opt-out-confirmation' ? 'opt-out-confirmation' : row.campaign_id === null ? 'notification' : (row.kind as MessageKind);
    // Only an erased message carries something else than E.164 (a marker): never send it.
    if (kind !== 'opt-out-confirmation' && !/^\+\d{8,15}$/.test(row.phone)) {
      const erased = recipientExclusion({ kind, stopListed: false, suppressed: true, consented: false })!;
      await trx.run(
        `update messages set state = 'skipped', error = ?, finished_at = ?, ${unclaimed} where id = ?`,
        [erased.text, ctx.now, row.id],
        { commit: true },
      );
      return erased;
    }
    const policy = factsPolicy(kind);
    const { day, month } = periodKeys(ctx.now, ctx.timeZone);
    const phoneKey = kind === 'opt-out-confirmation' ? '' : await this.phoneKeys.keyOf(trx.knex, row.phone);
    const rows = await trx.run(
      `with facts as (
         select exists (select 1 from stop_list where phone = ?) as stop_listed,
                exists (select 1 from suppressions where phone_key = ?) as suppressed,
                ${consentedSql('?')} as consented),
       bits as (
         select stop_listed::int | (suppressed::int << 1) | (consented::int << 2) as bits from facts),
       go as (
         select 1 from bits where bits = any(?::int[])),
       ledger as (
         insert into sim_usage (imsi, period, parts)
         select v.imsi, v.period, v.parts from (values (?, ?, ?::int), (?, ?, ?::int)) v(imsi, period, parts)
          where exists (select 1 from go)
         on conflict (imsi, period) do update set parts = sim_usage.parts + excluded.parts),
       slot as (
         update sims set next_send_at = ? where imsi = ? and exists (select 1 from go)),
       skip as (
         update messages set state = 'skipped', error = (?::text[])[(select bits from bits) + 1], finished_at = ?, ${unclaimed}
          where id = ? and not exists (select 1 from go))
       select stop_listed, suppressed, consented from facts`,
      [row.phone, phoneKey, row.phone, ctx.now, policy.allowed, imsi, day, row.parts, imsi, month, row.parts, nextSendAt, imsi, policy.reasons, ctx.now, row.id],
      { commit: true },
    );
    const facts = rows[0] as { stop_listed: boolean; suppressed: boolean; consented: boolean };
    return recipientExclusion({ kind, stopListed: facts.stop_listed, suppressed: facts.suppressed, consented: facts.consented });
  }

  /**
   * Where a claim for this SIM looks, in order: notifications (unless the caller knows none
   * waits), then the running campaigns it may serve in the order they were started. Each is one
   * indexed probe (`messages_waiting` on campaign_id, id): ordering across the join in one
   * statement made PostgreSQL sort every waiting row on every claim (33 ms per claim with 100k
   * waiting, measured by bench/dispatch).
   */
  private claimAttempts(imsi: string, ctx: ClaimContext): ClaimAttempt[] {
    const attempts: ClaimAttempt[] = [];
    if (ctx.notificationsMayWait !== false) {
      // Outside the window a notification goes if its template says any hour (keep_window false), or
      // it follows the setting (null) and the setting lets notifications go at any hour.
      attempts.push(
        ctx.windowOpen
          ? { notification: true, where: 'campaign_id is null', bindings: [], order: 'priority desc, id' }
          : { notification: true, where: 'campaign_id is null and (keep_window = false or (keep_window is null and ?))', bindings: [ctx.notificationsIgnoreWindow], order: 'priority desc, id' },
      );
    }
    // Without the list from the caller, the campaigns are read by a statement of their own (below).
    if (!ctx.campaigns) return attempts;
    for (const c of ctx.campaigns) if (serves(c, imsi, ctx)) attempts.push(campaignAttempt(c.id));
    return attempts;
  }

  /** The claim of the next message that `attempt` finds, for this SIM, if it takes at most `budget` parts. */
  private claimStatement(attempt: ClaimAttempt, imsi: string, device: string, budget: number, ctx: ClaimContext): Statement {
    return {
      // The price is the SIM's, read after its lock (the statement before this one).
      text: `update messages set state = 'sending', modem = ?, imsi = ?, instance_id = ?, claimed_at = ?,
                attempts = attempts + 1, error = null, price_per_part = (select p.price_per_part from sims p where p.imsi = ?)
          where id = (
            -- The number lock is tried on the one row chosen (a filter outside the LIMIT), never
            -- on every row the scan passes: an opt-out being written makes this probe find nothing.
            select candidate.id from (
              select id, phone from messages
               where state = 'waiting' and (not_before is null or not_before <= ?) and parts <= ? and ${attempt.where}
               order by ${attempt.order}
               for update skip locked
               limit 1) candidate
             where pg_try_advisory_xact_lock_shared(${numberLockSql('candidate.phone')}))
          returning id, campaign_id, phone, text, parts, attempts, purpose,
                    (select c.kind from campaigns c where c.id = messages.campaign_id) as kind`,
      // (`parts` is an integer column: "no limit" as the largest integer it compares with.)
      values: [device, imsi, this.instanceId, ctx.now, imsi, ctx.now, Math.min(budget, 2_147_483_647), ...attempt.bindings],
    };
  }

  /**
   * The claim's remaining attempts in order (`attempts`, the first already run when `firstRun`,
   * and found nothing), the notification probe's exact look after a notification attempt that
   * found none, and the running campaigns when the caller did not pass them.
   */
  private async claimNextMessage(
    trx: SqlTransaction,
    imsi: string,
    device: string,
    budget: number,
    ctx: ClaimContext,
    attempts: readonly ClaimAttempt[],
    firstRun: boolean,
  ): Promise<{ row: ClaimedRow | null; noNotifications: boolean }> {
    // Whether this claim saw that no notification waits at all (so the caller may skip the probe).
    let noNotifications = ctx.notificationsMayWait === false;
    const claim = async (attempt: ClaimAttempt) => {
      const st = this.claimStatement(attempt, imsi, device, budget, ctx);
      return ((await trx.run(st.text, st.values))[0] as ClaimedRow | undefined) ?? null;
    };
    for (const [i, attempt] of attempts.entries()) {
      const row = firstRun && i === 0 ? null : await claim(attempt);
      if (row) return { row, noNotifications: attempt.notification ? false : noNotifications };
      // A probe limited by the window, the budget, a backoff or a lock may have passed one over:
      // only a cheap exact look says none waits.
      if (attempt.notification) noNotifications = !(await this.notificationWaits(trx.run));
    }
    if (!ctx.campaigns) {
      for (const c of await this.runningCampaigns(trx.run)) {
        if (!serves(c, imsi, ctx)) continue;
        const row = await claim(campaignAttempt(c.id));
        if (row) return { row, noNotifications };
      }
    }
    return { row: null, noNotifications };
  }

  private async notificationWaits(run: Run): Promise<boolean> {
    const rows = await run(`select exists (select 1 from messages where state = 'waiting' and campaign_id is null) as waits`, []);
    return Boolean(rows[0]?.waits);
  }

  /** Running campaigns in the order they are served: the first started first. */
  async runningCampaigns(run: Run = this.sql.run): Promise<RunningCampaign[]> {
    const rows = await run(`select id, ignore_window, sims from campaigns where status = 'running' order by started_at, id`, []);
    return rows.map((c) => ({ id: Number(c.id), ignoreWindow: Boolean(c.ignore_window), sims: (c.sims as string[] | null) ?? null }));
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
    // A transaction only when the ledger is written too (a late delivery report is one statement).
    const work = async (trx: Knex | Knex.Transaction) => {
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
    };
    return options.release ? this.knex.transaction(work) : work(this.knex);
  }

  /**
   * A report's transition and the SIM's pacing after it, in one statement (no transaction): the
   * message moves only from one of `from`, and only then does the SIM's pause start from now
   * (`nextSendAt`) and its failure count reset. For the common case; a refusal that gives parts
   * back, or a failure the SIM is blamed for, goes through `apply` and `afterSend`.
   */
  async applyAndPace(
    id: number,
    from: readonly MessageState[],
    t: Exclude<Transition, { state: 'waiting' }>,
    now: Date,
    pace: { imsi: string; nextSendAt: Date },
  ): Promise<{ campaignId: number | null; imsi: string | null } | null> {
    const sentAt = t.state === 'sent' ? ', sent_at = ?' : '';
    const rows = await this.sql.run(
      `with m as (
         update messages set state = ?, error = ?, finished_at = ?${sentAt}
          where id = ? and state = any(?::text[])
          returning campaign_id, imsi),
       pace as (
         update sims set next_send_at = ?, consecutive_failures = 0, out_of_rotation_until = null
          where imsi = (select coalesce(m.imsi, ?) from m))
       select campaign_id, imsi from m`,
      [t.state, t.error, now, ...(sentAt ? [now] : []), id, [...from], pace.nextSendAt, pace.imsi],
    );
    const row = rows[0] as { campaign_id: number | null; imsi: string | null } | undefined;
    return row ? { campaignId: row.campaign_id ?? null, imsi: row.imsi ?? null } : null;
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
    // The idle loop's one statement, every `idleMs`: on pg's own query, like the hot path (knex's
    // builder and runner cost more CPU than the probe itself, and an idle PBX pays it all day).
    const rows = await this.sql.run(
      `select exists (select 1 from messages where state = 'waiting' and campaign_id is null)
           or exists (select 1 from campaigns c where c.status = 'running'
                        and exists (select 1 from messages m where m.campaign_id = c.id and m.state = 'waiting')) as work`,
      [],
    );
    return Boolean(rows[0]?.work);
  }

  /** Running campaigns (of `only`, when given) with nothing left waiting or sending become `finished`. */
  async finishCampaigns(now: Date, only: readonly number[] | null = null): Promise<number[]> {
    const rows = await this.knex('campaigns as c')
      .where('c.status', 'running')
      .modify((q) => {
        if (only) q.whereIn('c.id', only);
      })
      .whereNotExists((q) => q.from('messages as m').whereRaw('m.campaign_id = c.id').whereIn('m.state', ['waiting', 'sending']))
      .update({ status: 'finished', finished_at: now })
      .returning('id');
    return rows.map((r: { id: number }) => r.id);
  }
}

/** One place a claim looks for the next message: its filter on `messages` and its order. */
interface ClaimAttempt {
  notification: boolean;
  where: string;
  bindings: unknown[];
  order: string;
}

/** Whether the SIM may send the campaign's messages now: the window (unless the campaign ignores it) and the campaign's SIMs. */
function serves(c: RunningCampaign, imsi: string, ctx: ClaimContext): boolean {
  return (ctx.windowOpen || c.ignoreWindow) && (!c.sims || c.sims.includes(imsi));
}

/** The status is checked again inside the claim: a pause committed meanwhile wins. */
function campaignAttempt(id: number): ClaimAttempt {
  return {
    notification: false,
    where: `campaign_id = ? and exists (select 1 from campaigns c where c.id = messages.campaign_id and c.status = 'running')`,
    bindings: [id],
    order: 'id',
  };
}

/** What the claim statement returns. */
interface ClaimedRow {
  id: number | string;
  campaign_id: number | null;
  phone: string;
  text: string;
  parts: number;
  attempts: number;
  purpose: string;
  kind: string | null;
}

function toClaimed(row: ClaimedRow): ClaimedMessage {
  return { id: Number(row.id), campaignId: row.campaign_id ?? null, phone: row.phone, text: row.text, parts: row.parts, attempts: row.attempts };
}

/**
 * `recipientExclusion` for `kind` as a table over the recipient facts (bit 1 stop-listed, 2
 * suppressed, 4 consented): the combinations it lets through (the reservation statement reserves
 * only for these) and, by `bits + 1`, the reason stored on a message skipped for the others.
 */
function factsPolicy(kind: MessageKind): { allowed: number[]; reasons: string[] } {
  let policy = factsPolicies.get(kind);
  if (!policy) {
    policy = { allowed: [], reasons: [] };
    for (let bits = 0; bits < 8; bits++) {
      const exclusion = recipientExclusion({ kind, stopListed: (bits & 1) !== 0, suppressed: (bits & 2) !== 0, consented: (bits & 4) !== 0 });
      if (!exclusion) policy.allowed.push(bits);
      policy.reasons.push(exclusion?.text ?? '');
    }
    factsPolicies.set(kind, policy);
  }
  return policy;
}
const factsPolicies = new Map<MessageKind, { allowed: number[]; reasons: string[] }>();
