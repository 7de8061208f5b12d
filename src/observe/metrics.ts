import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import type { ModemInfo, SmsGateway } from '../modems/sms-gateway.js';
import { periodKeys } from '../sims/sims-repo.js';

/**
 * Prometheus metrics of one running service, on its own {@link Registry} (never prom-client's
 * global one: tests run several services in one process).
 *
 * Two sources:
 * - in-process counters, from the gateway's events since this process started:
 *   `simcast_ami_reconnects_total`, `simcast_ami_disconnects_total`,
 *   `simcast_inbound_sms_received_total` (and the dialplan helpers' counters when wired);
 * - database gauges, read lazily at scrape time by a few grouped queries (shared by every gauge
 *   of one scrape, bounded by a timeout). Totals that live in the database (messages by state,
 *   incoming SMS, opt-outs) are gauges of row counts, not counters: they survive restarts and
 *   agree across instances sharing a database, but an erasure can lower them. When the
 *   database does not answer in time, `simcast_database_up` is 0 and these gauges are empty.
 *
 * Labels are bounded: state, kind, IMSI (SIMs are few), period, source. Never a phone number or
 * a text.
 */

/** What a message is, as a metric label. */
export const messageKinds = ['campaign_service', 'campaign_advertising', 'notification', 'opt_out_confirmation'] as const;
export type MessageKind = (typeof messageKinds)[number];

export interface MetricsDeps {
  knex: Knex;
  gateway: Pick<SmsGateway, 'isConnected' | 'subscribe'>;
  clock: Clock;
  /** The office time zone (settings), for the SIMs' day and month usage. */
  timezone: () => Promise<string>;
  /** The modems as last listed (cached; never an AMI round trip per scrape). */
  modems: () => readonly ModemInfo[];
  /**
   * Hook for the dialplan notifications: in-memory counts of dialplan events by outcome since
   * start. When given, exported as `simcast_dialplan_events_total{outcome}`.
   */
  dialplanStats?: () => Record<string, number>;
  /** Bound on the database part of one scrape. Default 3 s. */
  queryTimeoutMs?: number;
  /** process_* and nodejs_* metrics. Default true. */
  defaultMetrics?: boolean;
}

interface MessageRow {
  state: string;
  kind: MessageKind;
  imsi: string;
  n: number;
  last_success: Date | string | null;
}

interface SimRow {
  imsi: string;
  enabled: boolean;
  daily_limit: number;
  monthly_limit: number;
  used_today: number;
  used_month: number;
}

interface Snapshot {
  messages: MessageRow[];
  sims: SimRow[];
  inbound: { opt_out: number; other: number };
  stopList: Record<string, number>;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
  /** Stops listening to the gateway. */
  close(): void;
}

export function createMetrics(deps: MetricsDeps): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  // prom-client samples the event-loop delay every 10 ms by default: a timer firing 100 times a
  // second cost the idle service ~4.7 ms CPU/s of its 2 ms/s budget (measured on the build). Even
  // once a second cost 0.6–0.7 ms/s on a slow VM (a bare node process: 0.15 → 0.8 ms/s), a third of
  // what the idle service spends; every 10 s it is 1.4 → 0.9–1.2 ms/s. The percentiles then sample
  // a stall of D seconds with odds D/10 each time it happens — enough to see a PBX that starves the
  // loop for long; `nodejs_eventloop_lag_seconds` is still measured at every scrape.
  if (deps.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10_000 });
  const timeoutMs = deps.queryTimeoutMs ?? 3000;

  // One database read per scrape, shared by every gauge's collect(): prom-client starts them all
  // in the same tick, so they join the read while it is pending; the next scrape reads afresh.
  let pending: Promise<Snapshot | null> | null = null;
  const snapshot = (): Promise<Snapshot | null> => {
    pending ??= withTimeout(readSnapshot(deps), timeoutMs)
      .catch(() => null)
      .finally(() => {
        pending = null;
      });
    return pending;
  };

  new Gauge({
    name: 'simcast_database_up',
    help: 'Whether the database answered the metrics queries of this scrape (1) or not (0)',
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });

  /**
   * A gauge filled from the scrape's one database snapshot: `fill` sets its samples; with no
   * snapshot (the database is down) it is left empty rather than showing stale or zero values.
   */
  const fromSnapshot = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (set: (labels: Record<L, string>, value: number) => void, s: Snapshot) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) fill((labels, value) => this.inc(labels, value), s);
      },
    });

  fromSnapshot('simcast_messages', 'Messages in the database by state, kind and the SIM (IMSI) that took them ("" before a SIM did)', ['state', 'kind', 'imsi'], (set, s) => {
    for (const row of s.messages) set({ state: row.state, kind: row.kind, imsi: row.imsi }, row.n);
  });

  fromSnapshot('simcast_queue_depth', 'Messages waiting to be sent, by kind', ['kind'], (set, s) => {
    for (const kind of messageKinds) set({ kind }, 0);
    for (const row of s.messages) if (row.state === 'waiting') set({ kind: row.kind }, row.n);
  });

  fromSnapshot('simcast_sim_last_success_timestamp_seconds', 'When a SIM last sent a message that ended sent or delivered (Unix time)', ['imsi'], (set, s) => {
    const last = new Map<string, number>();
    for (const row of s.messages) {
      if (!row.imsi || row.last_success === null) continue;
      const t = new Date(row.last_success).getTime() / 1000;
      last.set(row.imsi, Math.max(last.get(row.imsi) ?? 0, t));
    }
    for (const [imsi, t] of last) set({ imsi }, t);
  });

  fromSnapshot('simcast_sim_parts_used', "SMS parts a SIM used in the current local day or month (simcast's own ledger)", ['imsi', 'period'], (set, s) => {
    for (const sim of s.sims) {
      set({ imsi: sim.imsi, period: 'day' }, sim.used_today);
      set({ imsi: sim.imsi, period: 'month' }, sim.used_month);
    }
  });

  fromSnapshot('simcast_sim_parts_limit', 'The daily or monthly limit of SMS parts of a SIM', ['imsi', 'period'], (set, s) => {
    for (const sim of s.sims) {
      set({ imsi: sim.imsi, period: 'day' }, sim.daily_limit);
      set({ imsi: sim.imsi, period: 'month' }, sim.monthly_limit);
    }
  });

  fromSnapshot('simcast_sim_enabled', 'Whether a SIM is switched on for sending (1) or off (0)', ['imsi'], (set, s) => {
    for (const sim of s.sims) set({ imsi: sim.imsi }, sim.enabled ? 1 : 0);
  });

  fromSnapshot('simcast_inbound_sms', 'Incoming SMS stored in the database, by whether they opted the sender out', ['opt_out'], (set, s) => {
    set({ opt_out: 'true' }, s.inbound.opt_out);
    set({ opt_out: 'false' }, s.inbound.other);
  });

  fromSnapshot('simcast_stop_list_entries', 'Numbers on the stop list, by how they got there (reply = an opt-out SMS, manual, import)', ['source'], (set, s) => {
    for (const source of ['reply', 'manual', 'import']) set({ source }, s.stopList[source] ?? 0);
  });

  new Gauge({
    name: 'simcast_ami_connected',
    help: 'Whether the AMI session to Asterisk is logged in and usable (1) or not (0)',
    registers,
    collect() {
      this.set(deps.gateway.isConnected() ? 1 : 0);
    },
  });

  new Gauge({
    name: 'simcast_modems',
    help: 'Modems in the last chan_dongle listing, by whether they can send now',
    labelNames: ['ready'] as const,
    registers,
    collect() {
      const modems = deps.modems();
      const connected = deps.gateway.isConnected();
      const ready = connected ? modems.filter((m) => m.ready).length : 0;
      this.set({ ready: 'true' }, ready);
      this.set({ ready: 'false' }, modems.length - ready);
    },
  });

  const reconnects = new Counter({
    name: 'simcast_ami_reconnects_total',
    help: 'AMI sessions re-established after the first one, since this process started',
    registers,
  });
  const disconnects = new Counter({
    name: 'simcast_ami_disconnects_total',
    help: 'AMI sessions lost (Asterisk restart, network cut, failed heartbeat), since this process started',
    registers,
  });
  const received = new Counter({
    name: 'simcast_inbound_sms_received_total',
    help: 'Incoming SMS events from chan_dongle, since this process started',
    registers,
  });
  // A reconnect is a session that follows a lost one (the first session, however late, is not).
  let lost = false;
  const unsubscribe = deps.gateway.subscribe((event) => {
    if (event.type === 'connected') {
      if (lost) reconnects.inc();
      lost = false;
    } else if (event.type === 'disconnected') {
      disconnects.inc();
      lost = true;
    } else if (event.type === 'inbound-sms') {
      received.inc();
    }
  });

  const dialplanStats = deps.dialplanStats;
  if (dialplanStats) {
    new Counter({
      name: 'simcast_dialplan_events_total',
      help: 'Dialplan notification events by outcome, since this process started',
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const [outcome, n] of Object.entries(dialplanStats())) if (n >= 0) this.inc({ outcome }, n);
      },
    });
  }

  return {
    registry,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    close() {
      unsubscribe();
    },
  };
}

/** Two grouped queries (and the time zone setting). */
async function readSnapshot(deps: MetricsDeps): Promise<Snapshot> {
  const { knex } = deps;
  // The setting first: a query started before a failing await would reject unobserved.
  const { day, month } = periodKeys(deps.clock.now(), await deps.timezone());
  const messages = knex
    .raw(
      `select m.state,
         case when m.purpose = 'opt-out-confirmation' then 'opt_out_confirmation'
              when m.campaign_id is null then 'notification'
              when c.kind = 'advertising' then 'campaign_advertising'
              else 'campaign_service' end as kind,
         coalesce(m.imsi, '') as imsi,
         count(*)::int as n,
         max(coalesce(m.sent_at, m.finished_at)) filter (where m.state in ('sent', 'delivered')) as last_success
       from messages m left join campaigns c on c.id = m.campaign_id
       group by 1, 2, 3`,
    )
    .then((r: { rows: MessageRow[] }) => r.rows);
  const rest = knex
    .raw(
      `select
         (select coalesce(json_agg(json_build_object(
             'imsi', s.imsi, 'enabled', s.enabled, 'daily_limit', s.daily_limit, 'monthly_limit', s.monthly_limit,
             'used_today', coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0),
             'used_month', coalesce((select parts from sim_usage u where u.imsi = s.imsi and u.period = ?), 0))), '[]'::json)
          from sims s) as sims,
         (select count(*)::int from inbound_sms where opt_out) as inbound_opt_out,
         (select count(*)::int from inbound_sms where not opt_out) as inbound_other,
         (select coalesce(json_object_agg(source, n), '{}'::json)
          from (select source, count(*)::int as n from stop_list group by source) t) as stop_list`,
      [day, month],
    )
    .then((r: { rows: Array<{ sims: SimRow[] | string; inbound_opt_out: number; inbound_other: number; stop_list: Record<string, number> | string }> }) => r.rows[0]!);
  const [rows, other] = await Promise.all([messages, rest]);
  const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
  return {
    messages: rows.map((r) => ({ ...r, n: Number(r.n) })),
    sims: json(other.sims).map((s) => ({ ...s, daily_limit: Number(s.daily_limit), monthly_limit: Number(s.monthly_limit), used_today: Number(s.used_today), used_month: Number(s.used_month) })),
    inbound: { opt_out: Number(other.inbound_opt_out), other: Number(other.inbound_other) },
    stopList: json(other.stop_list),
  };
}

/** Rejects after `ms` (the query itself may go on; the scrape or probe doesn't wait for it). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
