/** The `simcast` command line as an admin runs it, against a real PostgreSQL database. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

function simcast(url: string, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' },
  });
}

describe('npx simcast migrate', () => {
  let testDb: TestDatabase;
  before(async () => { testDb = await createTestDatabase({ migrate: false }); });
  after(() => testDb.drop());

  it('on a brand-new database says which migrations it applied, then that nothing is left', { timeout: 60_000 }, async () => {
    const first = await simcast(testDb.url, 'migrate');
    assert.match(first.stdout, /^Применены миграции \(\d+\):/);
    assert.match(first.stdout, /20261126000100_create-users/);
    assert.doesNotMatch(first.stdout, /уже в актуальном состоянии/);
    const second = await simcast(testDb.url, 'migrate');
    assert.equal(second.stdout.trim(), 'База данных уже в актуальном состоянии.');
  });
});
