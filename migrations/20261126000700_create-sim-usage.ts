import type { Knex } from 'knex';

/**
 * Our own ledger of SMS parts per SIM per local day ('day:2026-11-26') and month
 * ('month:2026-11'). Parts are reserved when a message is claimed, in the same transaction, and
 * given back only when chan_dongle refused the action (nothing was sent). It is never recomputed
 * from messages, which staff may delete.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table sim_usage (
      imsi text not null references sims (imsi) on delete cascade,
      period text not null,
      parts integer not null default 0 check (parts >= 0),
      primary key (imsi, period)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table sim_usage');
}
