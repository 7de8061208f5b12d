import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres, type Database } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrations.js';

/** The server the integration suites run against (CI: PostgreSQL on 127.0.0.1:5432, user postgres). */
export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  db: Database;
  /** Closes the pool and drops the database (kept when KEEP_TEST_DB=1, for a post-mortem). */
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database on the real PostgreSQL server, migrated, for one test file. There is no
 * skip when the server is unreachable: the suite fails, so a green run always means the
 * PostgreSQL suites ran. Each created database is recorded in $SIMCAST_PG_MARKER for .ci/run.
 */
export async function createTestDatabase({ migrate = true } = {}): Promise<TestDatabase> {
  const name = `simcast_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  if (process.env.SIMCAST_PG_MARKER) appendFileSync(process.env.SIMCAST_PG_MARKER, `${name}\n`);
  const url = urlFor(name);
  const db = openPostgres(url);
  if (migrate) await migrateLatest(db.knex);
  return {
    url,
    db,
    async drop() {
      await db.close();
      if (process.env.KEEP_TEST_DB === '1') {
        console.log(`KEEP_TEST_DB=1: kept ${url}`);
        return;
      }
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
