import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table lists (
      id serial primary key,
      name text not null,
      file_name text not null,
      columns jsonb not null,
      phone_column text not null,
      imported integer not null,
      duplicates jsonb not null,
      rejected jsonb not null,
      created_by text,
      created_at timestamptz not null default now()
    )`);
  await knex.raw(`
    create table list_contacts (
      id bigserial primary key,
      list_id integer not null references lists (id) on delete cascade,
      row_number integer not null,
      phone text not null,
      fields jsonb not null,
      unique (list_id, phone)
    )`);
  await knex.raw(`create index list_contacts_list_row on list_contacts (list_id, row_number)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table list_contacts');
  await knex.raw('drop table lists');
}
