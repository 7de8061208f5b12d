import type { Knex } from 'knex';

/**
 * SIM cards, known by IMSI because a SIM can move to another modem or port. Limits, pauses and
 * price are per SIM; `next_send_at` and the rotation fields are the dispatcher's pacing state,
 * kept here so that they hold across restarts and between instances.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table sims (
      imsi text primary key,
      device text,
      instance_id text,
      enabled boolean not null default true,
      daily_limit integer not null check (daily_limit >= 0),
      monthly_limit integer not null check (monthly_limit >= 0),
      min_pause_seconds numeric(8, 2) not null check (min_pause_seconds >= 0),
      max_pause_seconds numeric(8, 2) not null check (max_pause_seconds >= min_pause_seconds),
      price_per_part numeric(10, 4) not null check (price_per_part >= 0),
      next_send_at timestamptz,
      consecutive_failures integer not null default 0,
      out_of_rotation_until timestamptz,
      last_failure text,
      last_failure_at timestamptz,
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table sims');
}
