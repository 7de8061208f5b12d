import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table users (
      id serial primary key,
      login text not null unique,
      password_hash text not null,
      role text not null check (role in ('admin', 'staff')),
      created_at timestamptz not null default now()
    )`);
  await knex.raw(`
    create table api_tokens (
      id serial primary key,
      name text not null,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      last_used_at timestamptz
    )`);
  await knex.raw(`
    create table sessions (
      sid text primary key,
      sess jsonb not null,
      expires_at timestamptz not null
    )`);
  await knex.raw(`create index sessions_expires_at on sessions (expires_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table sessions');
  await knex.raw('drop table api_tokens');
  await knex.raw('drop table users');
}
