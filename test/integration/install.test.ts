import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

/**
 * `make install DESTDIR=…` as CI runs it: builds, installs with production dependencies only
 * (`npm ci --omit=dev`: needs the npm registry), and the installed tree starts without tsx.
 */
const repo = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
/** What the unit gives the service: no NODE_OPTIONS or anything else from the test runner. */
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' };
let destdir: string;
let prefix: string;

before(async () => {
  destdir = mkdtempSync(path.join(tmpdir(), 'simcast-install-'));
  prefix = path.join(destdir, 'opt/simcast');
  await run('make', ['install', `DESTDIR=${destdir}`], { cwd: repo, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
});
after(() => {
  if (destdir) rmSync(destdir, { recursive: true, force: true });
});

test('the layout: the build, views, public, production dependencies only, the data folder', () => {
  for (const p of ['dist/main.js', 'dist/src/main.js', 'dist/src/lists/prepare-import-job.js', 'dist/migrations', 'views/layouts/main.hbs', 'public', 'package.json', 'node_modules/express', 'node_modules/@electric-sql/pglite']) {
    assert.ok(existsSync(path.join(prefix, p)), `${p} installed`);
  }
  for (const dev of ['tsx', 'typescript', 'playwright-core', '@types/node']) {
    assert.ok(!existsSync(path.join(prefix, 'node_modules', dev)), `dev dependency ${dev} not installed`);
  }
  assert.ok(!existsSync(path.join(prefix, 'src')), 'no TypeScript sources');
  const data = statSync(path.join(destdir, 'var/lib/simcast'));
  assert.ok(data.isDirectory());
  assert.equal(data.mode & 0o777, 0o750);
});

test('the settings file: mode 0600, a generated SESSION_SECRET, kept on a second install', async () => {
  const envPath = path.join(destdir, 'etc/simcast/simcast.env');
  assert.equal(statSync(envPath).mode & 0o777, 0o600);
  const env = readFileSync(envPath, 'utf8');
  const secret = /^SESSION_SECRET=([A-Za-z0-9_-]{32,})$/m.exec(env)?.[1];
  assert.ok(secret, 'SESSION_SECRET generated');
  // Reinstalling (no rebuild needed to check this: only the env step matters) keeps the file.
  await run('make', ['install', `DESTDIR=${destdir}`], { cwd: repo, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  assert.equal(readFileSync(envPath, 'utf8'), env, 'never overwritten');
});

test('the systemd unit: node on the build, the user, the env file, sandboxing', (t) => {
  const unitPath = path.join(destdir, 'etc/systemd/system/simcast.service');
  const unit = readFileSync(unitPath, 'utf8');
  for (const line of [
    'ExecStart=/usr/bin/node --min-semi-space-size=16 /opt/simcast/dist/main.js serve',
    'User=simcast',
    'EnvironmentFile=/etc/simcast/simcast.env',
    'Environment=NODE_ENV=production DATA_DIR=/var/lib/simcast',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ReadWritePaths=-/var/lib/simcast',
    'PrivateTmp=yes',
    'ProtectHome=yes',
    'Restart=on-failure',
    'KillSignal=SIGTERM',
  ]) {
    assert.ok(unit.split('\n').includes(line), `unit has ${line}`);
  }
  assert.doesNotMatch(unit, /tsx|MemoryDenyWriteExecute=yes/);
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (analyze.error) {
    t.diagnostic(`systemd-analyze verify skipped: systemd-analyze is not installed here (${(analyze.error as NodeJS.ErrnoException).code})`);
    return;
  }
  // The unit names /usr/bin/node and the user simcast, which may not exist on this machine:
  // only complaints about the file itself fail the test.
  const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  const problems = `${verify.stderr}`
    .split('\n')
    .filter((l) => l.includes('simcast.service') && !/Command .* is not executable|No such file|not found|Failed to resolve user|Unit is bound to inactive/i.test(l));
  t.diagnostic(`systemd-analyze verify: exit ${verify.status}; ${verify.stderr.trim() || 'no output'}`);
  assert.deepEqual(problems, [], 'systemd-analyze verify');
});

test('the installed tree runs without tsx: --help, a compiled import worker, the service on the simulator', async () => {
  const main = path.join(prefix, 'dist/main.js');
  const help = await run(process.execPath, [main, '--help'], { cwd: prefix, env: cleanEnv });
  assert.match(help.stdout, /simcast serve/);

  // The list parser's worker thread, compiled: no .ts file, no tsx.
  const script = path.join(destdir, 'worker-check.mjs');
  writeFileSync(
    script,
    `import { prepareImportInWorker } from ${JSON.stringify(pathToFileURL(path.join(prefix, 'dist/src/lists/prepare-import-in-worker.js')).href)};
const r = await prepareImportInWorker(Buffer.from('Имя;Телефон\\nАнна;8 912 345-67-89\\n'), 'a.csv', undefined);
console.log(JSON.stringify(r.kind === 'ok' ? r.result.contacts.map((c) => c.phone) : r));
`,
  );
  const worker = await run(process.execPath, [script], { cwd: prefix, env: cleanEnv });
  assert.deepEqual(JSON.parse(worker.stdout), ['+79123456789']);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'simcast-installed-data-'));
  const child = spawn(process.execPath, [main, 'serve'], {
    cwd: prefix,
    env: { ...cleanEnv, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  try {
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" within 60 s:\n${out}\n${err}`)), 60_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as { event?: string; url?: string };
          if (entry.event === 'web.listening' && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        }
      });
      void exited.then(([code]) => reject(new Error(`exited ${code} before listening:\n${out}\n${err}`)));
    });
    const login = await fetch(`${url}/login`);
    assert.equal(login.status, 200);
    assert.match(await login.text(), /<form/);
    const css = await fetch(`${url}/static/style.css`);
    assert.equal(css.status, 200);
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, `exit after SIGTERM\n${err}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
