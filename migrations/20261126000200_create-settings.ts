import type { Knex } from 'knex';

/** Key → JSON value. Rates, prices and limits live here, edited on the settings page. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table settings (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table settings');
}
