import type { Knex } from 'knex';
import * as createUsers from '../../migrations/20261126000100_create-users.js';
import * as createSettings from '../../migrations/20261126000200_create-settings.js';
import * as createLists from '../../migrations/20261126000300_create-lists.js';
import * as createCampaigns from '../../migrations/20261126000400_create-campaigns.js';
import * as createMessages from '../../migrations/20261126000500_create-messages.js';
import * as createSims from '../../migrations/20261126000600_create-sims.js';
import * as createSimUsage from '../../migrations/20261126000700_create-sim-usage.js';
import * as messagesSimsAndNotifications from '../../migrations/20261126000800_messages-sims-and-notifications.js';
import * as campaignWindowAndSims from '../../migrations/20261126000900_campaign-window-and-sims.js';
import * as indexActiveMessages from '../../migrations/20261126001000_index-active-messages.js';
import * as indexRetriesAndNotifications from '../../migrations/20261126001100_index-retries-and-notifications.js';
import * as createAuditLog from '../../migrations/20261201000100_create-audit-log.js';
import * as usersStateAndTokenRoles from '../../migrations/20261201000200_users-state-and-token-roles.js';
import * as createCompliance from '../../migrations/20261201000300_create-compliance.js';
import * as listsSuppressed from '../../migrations/20261202000100_lists-suppressed.js';
import * as notificationTemplates from '../../migrations/20261202001000_notification-templates.js';
import * as listsTags from '../../migrations/20261203000050_lists-tags.js';
import * as campaignListsTranslitTemplates from '../../migrations/20261203000200_campaign-lists-translit-templates.js';
import * as campaignReport from '../../migrations/20261203000300_campaign-report.js';
import * as listVersionsAndFiles from '../../migrations/20261203000100_list-versions-and-files.js';
import * as messagesSendPace from '../../migrations/20261203000500_messages-send-pace.js';
import * as listContactsPhoneIndex from '../../migrations/20261203000600_list-contacts-phone-index.js';
import * as listContactsListCheck from '../../migrations/20261203000700_list-contacts-list-check-per-statement.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * A static list instead of knex's directory loader: the loader imports files by path, which
 * breaks between tsx, tests and compiled output and renames migrations in the knex table.
 * Append new migrations at the end; never edit one that has been released.
 */
const migrations: ReadonlyArray<[string, Migration]> = [
  ['20261126000100_create-users', createUsers],
  ['20261126000200_create-settings', createSettings],
  ['20261126000300_create-lists', createLists],
  ['20261126000400_create-campaigns', createCampaigns],
  ['20261126000500_create-messages', createMessages],
  ['20261126000600_create-sims', createSims],
  ['20261126000700_create-sim-usage', createSimUsage],
  ['20261126000800_messages-sims-and-notifications', messagesSimsAndNotifications],
  ['20261126000900_campaign-window-and-sims', campaignWindowAndSims],
  ['20261126001000_index-active-messages', indexActiveMessages],
  ['20261126001100_index-retries-and-notifications', indexRetriesAndNotifications],
  ['20261201000100_create-audit-log', createAuditLog],
  ['20261201000200_users-state-and-token-roles', usersStateAndTokenRoles],
  ['20261201000300_create-compliance', createCompliance],
  ['20261202000100_lists-suppressed', listsSuppressed],
  ['20261202001000_notification-templates', notificationTemplates],
  ['20261203000050_lists-tags', listsTags],
  ['20261203000100_list-versions-and-files', listVersionsAndFiles],
  ['20261203000200_campaign-lists-translit-templates', campaignListsTranslitTemplates],
  ['20261203000300_campaign-report', campaignReport],
  ['20261203000500_messages-send-pace', messagesSendPace],
  ['20261203000600_list-contacts-phone-index', listContactsPhoneIndex],
  ['20261203000700_list-contacts-list-check-per-statement', listContactsListCheck],
];

const source: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  return withMigrationLock(knex, async () => {
    const [, applied] = (await knex.migrate.latest({ migrationSource: source })) as [number, string[]];
    return applied;
  });
}

/** pg_advisory_lock key of the migrations: "simcast" in ASCII, any number no one else uses. */
const migrationLockKey = 0x73696d63617374;

/**
 * Two instances (or the service and `npx simcast migrate`) starting together on one PostgreSQL
 * server: knex's own lock row makes the second migrator FAIL ("Migration table is already
 * locked"), and creating knex's tables can collide before that. A session advisory lock, held on
 * a connection of its own for the whole run, makes the second one wait and then find nothing to
 * do. The embedded database needs none: its data folder is locked to one process, and its single
 * connection could not hold a lock beside the migration anyway.
 */
async function withMigrationLock<T>(knex: Knex, work: () => Promise<T>): Promise<T> {
  const pool = (knex.client as { pool?: { max?: number } }).pool;
  if (knex.client.config.client !== 'pg' || (pool?.max ?? 2) < 2) return work();
  const connection = await knex.client.acquireConnection();
  try {
    await knex.raw('select pg_advisory_lock(?)', [migrationLockKey]).connection(connection);
    try {
      return await work();
    } finally {
      await knex.raw('select pg_advisory_unlock(?)', [migrationLockKey]).connection(connection);
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback({ migrationSource: source }, true);
}

/** Names of every migration this build knows, in order. */
export const migrationNames: readonly string[] = migrations.map(([name]) => name);
