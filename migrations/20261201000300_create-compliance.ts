import type { Knex } from 'knex';

/**
 * What the law asks of a sender (see src/compliance/CONTEXT.md):
 * - `stop_list`: numbers that must not get another SMS (a reply «СТОП», staff, an import);
 * - `consents`: the evidence of consent to advertising, lines only ever added (given/withdrawn);
 * - `suppressions`: numbers whose personal data was erased, kept only as a keyed hash so they
 *   are never messaged again, even from a later upload;
 * - `erasures`: the register of erasure requests (when asked, when done), without the number;
 * - `inbound_sms`: every SMS that came back to our SIMs.
 * Messages get a `purpose`: the opt-out confirmation is the one SMS that goes to a stop-listed number.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table stop_list (
      phone text primary key,
      reason text,
      source text not null check (source in ('reply', 'manual', 'import')),
      inbound_id bigint,
      created_by text not null,
      created_at timestamptz not null
    )`);
  await knex.raw(`
    create table consents (
      id bigserial primary key,
      phone text not null,
      action text not null check (action in ('given', 'withdrawn')),
      at timestamptz not null,
      source text not null,
      document text,
      recorded_by text not null,
      recorded_at timestamptz not null
    )`);
  await knex.raw(`create index consents_phone on consents (phone, at desc, id desc)`);
  await knex.raw(`
    create table suppressions (
      phone_key text primary key,
      created_at timestamptz not null
    )`);
  await knex.raw(`
    create table erasures (
      id serial primary key,
      phone_key text not null,
      requested_at timestamptz not null,
      erased_at timestamptz,
      requested_by text not null,
      counts jsonb not null default '{}'::jsonb
    )`);
  await knex.raw(`
    create table inbound_sms (
      id bigserial primary key,
      received_at timestamptz not null,
      instance_id text not null,
      device text not null,
      imsi text,
      from_phone text not null,
      text text not null,
      fingerprint text not null,
      opt_out boolean not null default false,
      stop_phrase text,
      handled_at timestamptz,
      handled_by text
    )`);
  await knex.raw(`create index inbound_sms_received on inbound_sms (received_at desc, id desc)`);
  await knex.raw(`create index inbound_sms_unhandled on inbound_sms (received_at desc, id desc) where handled_at is null`);
  await knex.raw(`create index inbound_sms_fingerprint on inbound_sms (fingerprint, received_at)`);
  await knex.raw(`create index inbound_sms_from on inbound_sms (from_phone)`);
  await knex.raw(`
    alter table messages add column purpose text not null default 'message'
      check (purpose in ('message', 'opt-out-confirmation'))`);
  // An opt-out turns the number's waiting messages `skipped` in the same transaction; erasure
  // finds every message of a number.
  await knex.raw(`create index messages_phone on messages (phone)`);
  await knex.raw(`create index list_contacts_phone on list_contacts (phone)`);
  // An erased contact stays in its list (counts stay right) with a marker instead of its data.
  await knex.raw(`alter table list_contacts add column erased_at timestamptz`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table list_contacts drop column erased_at');
  await knex.raw('drop index list_contacts_phone');
  await knex.raw('drop index messages_phone');
  await knex.raw('alter table messages drop column purpose');
  await knex.raw('drop table inbound_sms');
  await knex.raw('drop table erasures');
  await knex.raw('drop table suppressions');
  await knex.raw('drop table consents');
  await knex.raw('drop table stop_list');
}
