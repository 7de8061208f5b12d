import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { engine } from 'express-handlebars';
import session from 'express-session';
import helmet from 'helmet';
import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.js';
import type { KnexSessionStore } from '../auth/session-store.js';
import type { TokensRepo } from '../auth/tokens.js';
import type { UsersRepo } from '../auth/users-repo.js';
import type { CampaignScheduler } from '../campaigns/campaign-schedule.js';
import type { CampaignsService } from '../campaigns/campaigns-service.js';
import type { Clock } from '../clock.js';
import type { Dispatcher } from '../dispatcher/dispatcher.js';
import { isAppError } from '../errors.js';
import { packageRoot as root } from '../package-root.js';
import type { ListsService } from '../lists/lists-service.js';
import type { Logger } from '../logger.js';
import type { SmsGateway } from '../modems/sms-gateway.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import type { SimsService } from '../sims/sims-service.js';
import type { NotificationsService } from '../notifications/notifications-service.js';
import type { ComplianceService } from '../compliance/compliance-service.js';
import type { ErasureService } from '../compliance/erasure.js';
import { apiRouter } from './api/api-router.js';
import { hbsHelpers } from './hbs-helpers.js';
import { requireLogin, requireRole, sessionActor } from './middleware/auth.js';
import { csrfToken, verifyCsrf } from './middleware/csrf.js';
import { rejectNul } from './middleware/reject-nul.js';
import { auditRoutes } from './routes/audit-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { campaignRoutes } from './routes/campaign-routes.js';
import { consentRoutes } from './routes/consent-routes.js';
import { inboxRoutes } from './routes/inbox-routes.js';
import { listRoutes } from './routes/list-routes.js';
import { modemRoutes } from './routes/modem-routes.js';
import { observeRoutes, type Observability } from './routes/observe-routes.js';
import { notificationRoutes } from './routes/notification-routes.js';
import { rulesRoutes } from './routes/rules-routes.js';
import { settingsRoutes } from './routes/settings-routes.js';
import { accountRoutes } from './routes/account-routes.js';
import { erasureRoutes } from './routes/erasure-routes.js';
import { stopListRoutes } from './routes/stop-list-routes.js';

export interface AppServices {
  knex: Knex;
  clock: Clock;
  log: Logger;
  users: UsersRepo;
  tokens: TokensRepo;
  audit: AuditLog;
  lists: ListsService;
  campaigns: CampaignsService;
  settings: SettingsRepo;
  sims: SimsService;
  notifications: NotificationsService;
  compliance: ComplianceService;
  erasure: ErasureService;
  scheduler: CampaignScheduler;
  gateway: SmsGateway;
  dispatcher: Dispatcher;
  /** True when the built-in simulator stands in for Asterisk: pages say nothing is really sent. */
  simulated: boolean;
  sessionSecret: string;
  sessionStore: KnexSessionStore;
  cookieSecure: boolean;
  /** `/healthz` and `/metrics`; absent in apps built without them. */
  observability?: Observability;
}

/** The composition root of the web side; only main.ts listens. */
export function createApp(services: AppServices): express.Express {
  const app = express();
  const log = services.log.child({ component: 'web' });
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.engine('hbs', engine({ extname: '.hbs', defaultLayout: 'main', helpers: hbsHelpers }));
  app.set('view engine', 'hbs');
  app.set('views', path.join(root, 'views'));

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'script-src': ["'self'"], 'upgrade-insecure-requests': null },
      },
      // Office PBX hosts are reached over plain http on the LAN; HSTS would lock them out.
      strictTransportSecurity: false,
    }),
  );
  app.use('/static', express.static(path.join(root, 'public'), { maxAge: '1h' }));
  // Browsers ask for it after every page; through the session it would consume the flash message.
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });

  // Probes and scrapers: no session, no login (/metrics checks the address or a token itself).
  if (services.observability) app.use(observeRoutes({ ...services, observability: services.observability }));
  // The JSON API authenticates by token, not by session: mount it before the session.
  app.use('/api/v1', apiRouter(services));

  const store = services.sessionStore;
  app.use(
    session({
      name: 'simcast.sid',
      secret: services.sessionSecret,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { httpOnly: true, sameSite: 'lax', secure: services.cookieSecure, maxAge: 12 * 3600_000 },
    }),
  );
  // express-session writes a changed session only as the response ends, AFTER its headers: a
  // browser follows a 303 at once and could load the page before the flash message was stored.
  // So a redirect first saves the session (POST-redirect-GET keeps its message every time).
  app.use((req, res, next) => {
    const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
    res.redirect = ((...args: unknown[]) => {
      if (!req.session) return redirect(...args);
      req.session.save((err) => (err ? next(err) : redirect(...args)));
    }) as typeof res.redirect;
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '200kb' }));
  app.use(express.json({ limit: '200kb' }));
  app.use(rejectNul);
  // The session's user as they are now (role, disabled), on every page request.
  app.use(sessionActor(services.users));
  app.use(async (req, res, next) => {
    res.locals.timezone = (await services.settings.get()).timezone;
    res.locals.simulated = services.simulated;
    const actor = res.locals.actor;
    res.locals.user = actor ? { login: actor.name, isAdmin: actor.role === 'admin' } : null;
    // The flash message belongs to the next page a person sees: a live-report poll or another
    // tab's background fetch (which don't ask for HTML) must not consume it.
    if (req.method === 'GET' && (req.get('accept') ?? '').includes('text/html')) {
      res.locals.flash = req.session.flash;
      if (req.session.flash) delete req.session.flash;
    }
    res.locals.csrf = () => csrfToken(req);
    next();
  });

  app.use(authRoutes(services));
  // Multipart uploads are parsed inside their route before the CSRF check; everything else here.
  app.use(requireLogin);
  // Every page below needs at least the staff role; admin pages and actions add requireRole('admin').
  app.use(requireRole('staff'));
  app.use(listRoutes(services));
  const stopList = stopListRoutes(services);
  app.use(stopList.upload);
  app.use(verifyCsrf);
  // The nav shows how many incoming SMS wait for someone (a partial index answers the count).
  app.use(async (req, res, next) => {
    if (req.method === 'GET') res.locals.inboxUnhandled = await services.compliance.unhandledCount();
    next();
  });
  app.get('/', (_req, res) => res.redirect('/campaigns'));
  app.use(campaignRoutes(services));
  app.use(modemRoutes(services));
  app.use(settingsRoutes(services));
  app.use(accountRoutes(services));
  app.use(erasureRoutes(services));
  app.use(inboxRoutes(services));
  app.use(stopList.pages);
  app.use(consentRoutes(services));
  app.use(auditRoutes(services));
  app.use(rulesRoutes(services));
  app.use(notificationRoutes(services));

  app.use((_req, res) => {
    res.status(404).render('error', { title: 'Страница не найдена', message: 'Такой страницы нет. Вернитесь к списку рассылок.' });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isAppError(error)) {
      res.status(error.status).render('error', { title: 'Не получилось', message: error.message });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      res.status(status).render('error', { title: 'Не получилось', message: 'Запрос не понят. Вернитесь назад и попробуйте ещё раз.' });
      return;
    }
    // Path only: a query string can carry a search (a name, a phone: personal data, 152-FZ).
    log.error({ err: error, url: req.originalUrl.split('?', 1)[0] }, 'page failed');
    res.status(500).render('error', { title: 'Ошибка', message: 'Что-то пошло не так. Попробуйте ещё раз; если повторится — сообщите администратору.' });
  });
  return app;
}
