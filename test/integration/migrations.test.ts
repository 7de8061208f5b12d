import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgres } from '../../src/db/knex.js';
import { migrateLatest, migrationNames } from '../../src/db/migrations.js';
import { createTestDatabase } from '../helpers/test-db.js';

test('three instances starting together on a fresh database: all start, each migration applied once', async () => {
  const testDb = await createTestDatabase({ migrate: false });
  // Each "instance" has its own pool, as separate processes would.
  const instances = [openPostgres(testDb.url), openPostgres(testDb.url), openPostgres(testDb.url)];
  try {
    const results = await Promise.allSettled(instances.map((db) => migrateLatest(db.knex)));
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    const applied = results.map((r) => (r as PromiseFulfilledResult<string[]>).value);
    // One of them did the work; the others waited for the lock and found nothing to do.
    assert.deepEqual(applied.flat().sort(), [...migrationNames].sort());
    assert.equal(applied.filter((a) => a.length > 0).length, 1);
    const rows: Array<{ name: string }> = await testDb.db.knex('knex_migrations').select('name');
    assert.deepEqual(rows.map((r) => r.name).sort(), [...migrationNames].sort());
    assert.equal((await testDb.db.knex('knex_migrations_lock').first('is_locked')).is_locked, 0);
  } finally {
    for (const db of instances) await db.close();
    await testDb.drop();
  }
});
