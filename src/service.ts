import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { AuditLog } from './audit/audit-log.js';
import { hashPassword } from './auth/password.js';
import { KnexSessionStore } from './auth/session-store.js';
import { TokensRepo } from './auth/tokens.js';
import { UsersRepo } from './auth/users-repo.js';
import { CampaignsRepo } from './campaigns/campaigns-repo.js';
import { CampaignScheduler } from './campaigns/campaign-schedule.js';
import { CampaignsService } from './campaigns/campaigns-service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openEmbedded, openPostgres, type Database } from './db/knex.js';
import { migrateLatest } from './db/migrations.js';
import { DispatchRepo } from './dispatcher/dispatch-repo.js';
import { Dispatcher, Payloads } from './dispatcher/dispatcher.js';
import { ListsRepo } from './lists/lists-repo.js';
import { ListsService } from './lists/lists-service.js';
import { configureImportWorker } from './lists/prepare-import-in-worker.js';
import type { Logger } from './logger.js';
import { DongleGateway } from './modems/ami/dongle-gateway.js';
import { SettingsRepo } from './settings/settings-repo.js';
import { SimsRepo } from './sims/sims-repo.js';
import { recentSendPaces } from './sims/send-pace-repo.js';
import { SimsService } from './sims/sims-service.js';
import { NotificationsService } from './notifications/notifications-service.js';
import { AmiSimulator } from './simulator/ami-simulator.js';
import { campaignCompliance, ComplianceRepo, type Db } from './compliance/compliance-repo.js';
import { ComplianceService } from './compliance/compliance-service.js';
import { recipientExclusion } from './compliance/consent.js';
import { PhoneKeys } from './compliance/phone-keys.js';
import { ErasureRepo } from './compliance/erasure-repo.js';
import { ErasureService, erasedSkipReason } from './compliance/erasure.js';
import { routeGatewayEvents } from './gateway-events.js';
import { exclusionReasons } from './i18n/ru.js';
import { createMetrics } from './observe/metrics.js';
import { createApp } from './web/app.js';

/**
 * The embedded database is locked by the running service, so `npx simcast user add` cannot run
 * beside it. On the very first start the quick start therefore makes an `admin` with a random
 * password and prints it once; with a PostgreSQL server the CLI is the way.
 */
async function ensureFirstAdmin(users: UsersRepo, log: Logger): Promise<void> {
  if ((await users.count()) > 0) return;
  const password = randomBytes(9).toString('base64url');
  await users.upsert('admin', await hashPassword(password), 'admin');
  log.warn({ event: 'users.first-admin' }, 'created the first user "admin"');
  process.stderr.write(
    `\n  Создан первый пользователь: логин admin, пароль ${password}\n  Запишите пароль: он показан один раз. Сменить его можно на странице «Пользователи».\n\n`,
  );
}

export function openDatabase(config: Config): Database {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openEmbedded(config.dataDir);
}

export interface RunningService {
  url: string;
  db: Database;
  dispatcher: Dispatcher;
  compliance: ComplianceService;
  notifications: NotificationsService;
  gateway: DongleGateway;
  simulator: AmiSimulator | null;
  close(): Promise<void>;
}

/** The modems the built-in simulator pretends to have, so a newcomer can try the whole flow. */
const simulatedModems = [
  { device: 'dongle0', imsi: '250990000000001', imei: '359999000000001', operator: 'Имитатор' },
  { device: 'dongle1', imsi: '250990000000002', imei: '359999000000002', operator: 'Имитатор' },
];

/**
 * Wires everything and listens: database (migrated), AMI gateway (or the built-in simulator
 * when no AMI is configured), dispatcher loop, web server. `close()` stops them in reverse.
 */
export async function startService(config: Config, log: Logger, clock: Clock = systemClock, db = openDatabase(config)): Promise<RunningService> {
  configureImportWorker({ maxHeapMb: config.importMaxHeapMb });
  const applied = await migrateLatest(db.knex);
  if (applied.length) log.info({ event: 'db.migrated', applied }, `applied ${applied.length} migration(s)`);

  let simulator: AmiSimulator | null = null;
  let ami = config.ami;
  if (!ami) {
    simulator = await AmiSimulator.start({ username: 'simcast', secret: 'simcast', modems: simulatedModems, delayPerPartMs: 1500 });
    ami = { host: '127.0.0.1', port: simulator.port, username: 'simcast', secret: 'simcast' };
    log.warn({ event: 'simulator.started', port: simulator.port }, 'no AMI configured: using the built-in chan_dongle simulator, nothing is really sent');
  }
  const gateway = new DongleGateway({ ...ami, log: log.child({ component: 'ami' }) });
  gateway.start();

  const users = new UsersRepo(db.knex);
  if (db.kind === 'pglite') await ensureFirstAdmin(users, log);
  const settings = new SettingsRepo(db.knex);
  const sessionSecret = config.sessionSecret ?? (await settings.secret('session', () => randomBytes(32).toString('base64url')));
  const listsRepo = new ListsRepo(db.knex);
  const sims = new SimsRepo(db.knex);
  const audit = new AuditLog(db.knex);
  const phoneKeys = new PhoneKeys();
  await phoneKeys.load(db.knex);
  const complianceRepo = new ComplianceRepo(db.knex);
  const compliance = new ComplianceService({ repo: complianceRepo, audit, settings, clock, log: log.child({ component: 'compliance' }), instanceId: config.instanceId, phoneKeys });
  const erasure = new ErasureService({ repo: new ErasureRepo(db.knex), audit, clock, phoneKeys, log: log.child({ component: 'erasure' }) });
  const campaigns = new CampaignsService({
    repo: new CampaignsRepo(db.knex),
    lists: listsRepo,
    settings,
    clock,
    knownSims: () => sims.imsis(),
    gatewayProblem: (text) => gateway.textProblem(text),
    gatewayStamp: () => gateway.generation() ?? '',
    compliance: campaignCompliance(db.knex, exclusionReasons),
  });
  const payloadTag = await settings.secret('payload-tag', () => randomBytes(8).readBigUInt64BE().toString(36).slice(0, 8));
  const dispatcher = new Dispatcher({
    payloads: new Payloads(payloadTag),
    repo: new DispatchRepo(db.knex, config.instanceId, phoneKeys),
    sims,
    gateway,
    clock,
    log,
    settings: () => settings.get(),
  });
  campaigns.onChange = () => dispatcher.notify();
  /** Why a notification (or a test send) may not go to `phone` now: erased, or stop-listed; null when it may. */
  const notificationExclusion = async (db: Db, phone: string, now: Date): Promise<{ reason: string; erased: boolean } | null> => {
    const facts = await complianceRepo.recipientFacts(db, phone, await phoneKeys.keyOf(db, phone), now);
    if (facts.suppressed) return { reason: erasedSkipReason, erased: true };
    const excluded = recipientExclusion({ kind: 'notification', ...facts });
    return excluded ? { reason: excluded.text, erased: false } : null;
  };
  const notifications = new NotificationsService({
    knex: db.knex, settings, clock, audit, log: log.child({ component: 'notifications' }),
    // `trx`: the notification's own transaction (the embedded database has one connection).
    exclusionOf: async (trx, phone, now) => {
      const excluded = await notificationExclusion(trx, phone, now);
      return excluded?.erased ? { reason: excluded.reason, erased: true } : (excluded?.reason ?? null);
    },
  });
  // A test send is a notification to a staff phone: the same stop-list and erasure checks.
  campaigns.testExclusion = async (phone, now) => (await notificationExclusion(db.knex, phone, now))?.reason ?? null;
  notifications.onQueued = () => dispatcher.notify();
  compliance.onChange = () => dispatcher.notify();
  erasure.onChange = () => {
    dispatcher.notify();
    // A kept preview may hold the erased person's fields: they go now, not when it expires.
    campaigns.forgetPreviews();
  };
  const unrouteEvents = routeGatewayEvents(gateway, { compliance, notifications }, log);

  const simsService = new SimsService(sims, settings, gateway, clock, () => recentSendPaces(db.knex));
  const sessionStore = new KnexSessionStore(db.knex, () => clock.now());
  // Expired sessions (and the anonymous ones the login page makes) are removed hourly.
  const pruneSessions = setInterval(() => {
    sessionStore.prune().catch((err: unknown) => log.warn({ event: 'sessions.prune-failed', err }, 'could not prune sessions'));
  }, 3600_000);
  pruneSessions.unref();
  const metrics = createMetrics({
    knex: db.knex,
    gateway,
    clock,
    timezone: async () => (await settings.get()).timezone,
    modems: () => dispatcher.knownModems(),
    dialplanStats: () => {
      const { total: _total, ...byOutcome } = notifications.dialplanStats();
      return byOutcome;
    },
  });
  const app = createApp({
    knex: db.knex,
    clock,
    log,
    users,
    tokens: new TokensRepo(db.knex),
    lists: new ListsService(listsRepo, clock, (phones, db) => erasure.suppressedAmong(phones, db), async () => {
      const s = await settings.get();
      return { maxMb: s.importMaxMb, maxRows: s.importMaxRows };
    }),
    campaigns,
    settings,
    sims: simsService,
    notifications,
    audit,
    compliance,
    erasure,
    scheduler: new CampaignScheduler(db.knex, sims, settings, () => simsService.recentModems(), clock),
    gateway,
    dispatcher,
    simulated: simulator !== null,
    sessionSecret,
    sessionStore,
    cookieSecure: config.cookieSecure,
    observability: { metrics, health: { knex: db.knex, gateway, modems: () => dispatcher.knownModems() } },
  });

  const stop = new AbortController();
  const loop = dispatcher.run(stop.signal);

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ event: 'web.listening', url }, `simcast listening on ${url}`);

  return {
    url,
    db,
    dispatcher,
    compliance,
    notifications,
    gateway,
    simulator,
    async close() {
      stop.abort();
      clearInterval(pruneSessions);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await loop;
      await dispatcher.drain(5000);
      dispatcher.detach();
      unrouteEvents();
      metrics.close();
      await gateway.close();
      await simulator?.close();
      await db.close();
    },
  };
}
