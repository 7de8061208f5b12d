import { once } from 'node:events';
import * as XLSX from 'xlsx';
import { AuditLog } from '../../src/audit/audit-log.js';
import { hashPassword } from '../../src/auth/password.js';
import { TokensRepo } from '../../src/auth/tokens.js';
import { UsersRepo } from '../../src/auth/users-repo.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { SettingsRepo } from '../../src/settings/settings-repo.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { PageClient } from './page-client.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export interface Harness {
  service: RunningService;
  simulator: AmiSimulator;
  testDb: TestDatabase;
  token: string;
  /** The audit log of the service's database, for asserting who did what. */
  audit: AuditLog;
  /** fetch against the service with the API token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Settings that make tests independent of the hour they run at and quick. */
export const testSettings = { sendPauseSeconds: 0, sendPauseMaxSeconds: 0, window: { from: '00:00', to: '00:00' } };

export const testModems = [
  { device: 'dongle0', imsi: '250990000000001', imei: '359999000000001' },
  { device: 'dongle1', imsi: '250990000000002', imei: '359999000000002' },
];

/**
 * The whole service on a fresh PostgreSQL database and our chan_dongle simulator over real TCP,
 * with an API token and an admin user (admin / correct-horse-1), pauses set to 0.
 */
export async function startHarness(options: { delayPerPartMs?: number; messageTimeoutSeconds?: number } = {}): Promise<Harness> {
  const testDb = await createTestDatabase();
  const simulator = await AmiSimulator.start({ modems: testModems, delayPerPartMs: options.delayPerPartMs ?? 20, authFailDelayMs: 20 });
  const settings = new SettingsRepo(testDb.db.knex);
  // No pauses, and a window open all day: tests run at any hour.
  await settings.update({ ...testSettings, messageTimeoutSeconds: options.messageTimeoutSeconds ?? 90 }, new Date());
  await new UsersRepo(testDb.db.knex).upsert('admin', await hashPassword('correct-horse-1'), 'admin');
  const { token } = await new TokensRepo(testDb.db.knex).create('tests');
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: testDb.url,
    AMI_HOST: '127.0.0.1',
    AMI_PORT: String(simulator.port),
    AMI_USER: 'simcast',
    AMI_SECRET: 'simcast',
    INSTANCE_ID: 'test-instance',
    SESSION_SECRET: 'test-session-secret-0123456789',
  });
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const service = await startService(config, log, undefined, testDb.db);
  return {
    service,
    simulator,
    testDb,
    token,
    audit: new AuditLog(testDb.db.knex),
    api: (path, init = {}) =>
      fetch(`${service.url}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}), ...init.headers },
      }),
    async close() {
      await service.close();
      await simulator.close();
      await testDb.drop();
    },
  };
}

/** An .xlsx workbook as Excel would save it: header row, then rows. */
export function xlsxBuffer(rows: unknown[][]): Buffer {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), 'Лист1');
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
}

/** Resolves when the dispatcher reports the campaign finished (no sleeping, no polling). */
export async function campaignFinished(service: RunningService, campaignId: number, timeoutMs = 20_000): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  for (;;) {
    const [event] = (await once(service.dispatcher.events, 'campaign-finished', { signal })) as [{ campaignId: number }];
    if (event.campaignId === campaignId) return;
  }
}

export async function uploadList(h: Harness, rows: unknown[][], name = 'Клиенты'): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(xlsxBuffer(rows))]), 'клиенты.xlsx');
  form.append('name', name);
  return h.api('/lists', { method: 'POST', body: form });
}

/** A person logged in on the pages, as a browser is (the admin unless told otherwise). */
export async function pageSession(h: Harness, login = 'admin', password = 'correct-horse-1'): Promise<PageClient> {
  const client = new PageClient(h.service.url);
  const status = await client.login(login, password);
  if (status !== 303) throw new Error(`login failed: ${status}`);
  return client;
}
