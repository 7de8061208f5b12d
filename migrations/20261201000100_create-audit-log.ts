import type { Knex } from 'knex';

/**
 * Who did what: an append-only log. The application only ever inserts; the database itself
 * refuses UPDATE, DELETE and TRUNCATE on it, so neither a bug nor a compromised page can
 * rewrite history. Rows carry no personal data (phone numbers are masked before they get here).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table audit_log (
      id bigserial primary key,
      at timestamptz not null,
      actor text not null,
      address text,
      action text not null,
      target text,
      details jsonb not null default '{}'::jsonb
    )`);
  await knex.raw(`create index audit_log_at on audit_log (at desc, id desc)`);
  await knex.raw(`create index audit_log_action on audit_log (action, at desc)`);
  await knex.raw(`
    create function audit_log_is_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end
    $$`);
  await knex.raw(`
    create trigger audit_log_no_update_delete before update or delete on audit_log
      for each row execute function audit_log_is_append_only()`);
  await knex.raw(`
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_is_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table audit_log');
  await knex.raw('drop function audit_log_is_append_only');
}
