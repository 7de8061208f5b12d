import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table campaigns (
      id serial primary key,
      name text not null,
      list_id integer not null references lists (id),
      template text not null,
      kind text not null check (kind in ('service', 'advertising')),
      status text not null check (status in ('draft', 'running', 'paused', 'finished', 'cancelled')),
      price_per_part numeric(10, 4) not null,
      max_parts integer not null,
      created_by text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table campaigns');
}
