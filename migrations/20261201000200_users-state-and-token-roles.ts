import type { Knex } from 'knex';

/**
 * Users can be disabled (kept for the audit trail, never deleted); API tokens carry a role and
 * can be revoked. Existing tokens keep the admin role: every token could do everything before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table users add column disabled_at timestamptz`);
  await knex.raw(`alter table api_tokens add column role text not null default 'admin' check (role in ('admin', 'staff'))`);
  await knex.raw(`alter table api_tokens add column revoked_at timestamptz`);
  await knex.raw(`alter table api_tokens add column created_by text`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table api_tokens drop column created_by`);
  await knex.raw(`alter table api_tokens drop column revoked_at`);
  await knex.raw(`alter table api_tokens drop column role`);
  await knex.raw(`alter table users drop column disabled_at`);
}
