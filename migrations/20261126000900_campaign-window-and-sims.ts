import type { Knex } from 'knex';

/** A service campaign may ignore the sending window; any campaign may be limited to chosen SIMs. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table campaigns add column ignore_window boolean not null default false`);
  await knex.raw(`alter table campaigns add column sims jsonb`);
  await knex.raw(`alter table campaigns add constraint campaigns_advertising_keeps_window check (not (ignore_window and kind = 'advertising'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table campaigns drop constraint campaigns_advertising_keeps_window`);
  await knex.raw(`alter table campaigns drop column sims`);
  await knex.raw(`alter table campaigns drop column ignore_window`);
}
