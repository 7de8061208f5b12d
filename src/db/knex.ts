import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';

export type { Knex };

// pg returns int8 and numeric as strings (they may exceed a JS number); our counters and ids
// fit comfortably, and PGlite returns numbers already, so make both agree.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export interface Database {
  readonly knex: Knex;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/**
 * Idle connections are closed after 10 minutes, not tarn's 30 s: with the default pauses (20–40 s
 * between two SMS of a SIM) the claims of a campaign come in bursts further apart than 30 s, so
 * the connections a burst opened were closed and opened again at the next one — a new PostgreSQL
 * backend each time (fork, catalog caches, the hot statements prepared again), about one every
 * 10 s on 16 modems, and a third of the server's CPU per SMS (bench 3d: 9.3–13.0 → 6.2–7.9 ms).
 * tarn looks for idle connections every second by default, a timer that wakes an idle service once
 * a second all day (the dispatcher's probe keeps one connection in use every 5 s, so the pool never
 * empties and the timer never stops); every 10 s is enough.
 */
const defaultPool = { min: 0, max: 10, reapIntervalMillis: 10_000, idleTimeoutMillis: 600_000 };

/** A PostgreSQL server: the production mode, and the integration tests. */
export function openPostgres(connectionString: string, pool: Knex.PoolConfig = defaultPool): Database {
  const knex = knexFactory({ client: 'pg', connection: connectionString, pool });
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}

/**
 * Embedded PostgreSQL (PGlite) in `dataDir`. PGlite has no cross-process lock and a second
 * process opening the same directory silently loses rows (measured), so we hold a lock file
 * with our pid and refuse to start while another live process holds it.
 */
export function openEmbedded(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'simcast.lock');
  takeLock(lockPath);
  const knex = knexFactory({
    client: ClientPgLite as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: { filename: path.join(dataDir, 'pgdata') },
    // The first open of a new data directory runs initdb (3–5 s measured).
    acquireConnectionTimeout: 120_000,
  } as Knex.Config);
  return {
    knex,
    kind: 'pglite',
    close: async () => {
      await knex.destroy();
      releaseLock(lockPath);
    },
  };
}

export class DataDirLockedError extends Error {
  constructor(lockPath: string, pid: number) {
    super(
      `Папка данных уже открыта другим процессом simcast (pid ${pid}). Остановите его или укажите другую DATA_DIR. Файл блокировки: ${lockPath}`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** Lock files this process holds: a second open from the same process is refused too. */
const heldLocks = new Set<string>();

function takeLock(lockPath: string): void {
  if (heldLocks.has(lockPath)) throw new DataDirLockedError(lockPath, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      heldLocks.add(lockPath);
      process.once('exit', () => releaseLock(lockPath));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      // Our own pid here is a stale file from an earlier process that had the same pid (containers).
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(lockPath, pid);
      }
      // A stale lock from a process that died (SIGKILL, power loss): take it over.
      unlinkSync(lockPath);
    }
  }
  throw new Error(`Не удалось взять блокировку ${lockPath}`);
}

function releaseLock(lockPath: string): void {
  heldLocks.delete(lockPath);
  try {
    if (Number(readFileSync(lockPath, 'utf8').trim()) === process.pid) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
