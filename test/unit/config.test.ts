import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

test('nothing configured: embedded database and the simulator', () => {
  const c = loadConfig({}, '/srv/simcast');
  assert.equal(c.databaseUrl, null);
  assert.equal(c.dataDir, '/srv/simcast/data');
  assert.equal(c.ami, null);
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.ok(Object.isFrozen(c));
});

test('production settings are read', () => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/simcast', AMI_HOST: '127.0.0.1', AMI_USER: 'simcast', AMI_SECRET: 's', PORT: '8080', HOST: '0.0.0.0' });
  assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/simcast');
  assert.deepEqual(c.ami, { host: '127.0.0.1', port: 5038, username: 'simcast', secret: 's' });
  assert.equal(c.port, 8080);
});

test('wrong values stop start-up with every problem named', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' }),
    (e: unknown) => e instanceof ConfigError && e.problems.length === 3 && /PORT/.test(e.message) && /DATABASE_URL/.test(e.message) && /LOG_LEVEL/.test(e.message),
  );
  assert.throws(() => loadConfig({ AMI_HOST: '127.0.0.1' }), /AMI_USER/);
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
});
