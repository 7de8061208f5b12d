import { Router, type Request } from 'express';
import type { Actor } from '../../auth/actor.js';
import { LoginThrottle } from '../../auth/login-throttle.js';
import { hashPassword, verifyPassword } from '../../auth/password.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { verifyCsrf } from '../middleware/csrf.js';

/** Only local paths are followed after login, never another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/campaigns';
}

let dummyHash: Promise<string> | undefined;

/** Whoever typed at the login form, before we know who they are. */
function anonymous(req: Request): Actor {
  return { kind: 'user', id: null, name: 'anonymous', role: 'staff', address: req.ip ?? null };
}

export function authRoutes({ users, clock, audit, knex }: AppServices): Router {
  const router = Router();
  // Per login AND address, so nobody elsewhere can lock a colleague out; per address alone, looser.
  const perLogin = new LoginThrottle(5, 15 * 60_000);
  const perAddress = new LoginThrottle(30, 15 * 60_000);

  router.get('/login', (req, res) => {
    if (req.session.userId) return res.redirect('/campaigns');
    res.render('login', { title: 'Вход', next: safeNext(req.query.next), bare: true });
  });

  router.post('/login', verifyCsrf, async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const login = String(body.login ?? '').trim().slice(0, 100);
    const password = String(body.password ?? '');
    const pair = [`${login.toLowerCase()}|${req.ip ?? ''}`];
    const address = [req.ip ?? ''];
    const wait = Math.max(perLogin.retryAfterMs(pair, clock.now()), perAddress.retryAfterMs(address, clock.now()));
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      res.status(429).render('login', { title: 'Вход', next: safeNext(body.next), bare: true, login, error: `Слишком много неудачных попыток входа. Попробуйте снова через ${minutes} мин.` });
      return;
    }
    const user = login ? await users.findForLogin(login) : null;
    // An unknown login costs the same slow hash, so response time does not tell which logins exist.
    dummyHash ??= hashPassword('not-a-password');
    const ok = await verifyPassword(password, user ? user.passwordHash : await dummyHash);
    // A disabled user gets the same answer as a wrong password, after the same slow hash.
    if (!user || !ok || user.disabledAt) {
      perLogin.recordFailure(pair, clock.now());
      perAddress.recordFailure(address, clock.now());
      const reason = !user ? 'unknown-login' : !ok ? 'wrong-password' : 'disabled';
      await audit.record(knex, anonymous(req), clock.now(), 'user.login-failed', login.slice(0, 64), { reason });
      res.status(401).render('login', { title: 'Вход', next: safeNext(body.next), bare: true, login, error: 'Неверный логин или пароль.' });
      return;
    }
    perLogin.recordSuccess(pair);
    const actor: Actor = { kind: 'user', id: user.id, name: user.login, role: user.role, address: req.ip ?? null };
    await audit.record(knex, actor, clock.now(), 'user.login', user.login);
    req.session.regenerate((err) => {
      if (err) return next(err);
      // Only who it is: the role and state are read from the users table on every request.
      req.session.userId = user.id;
      req.session.login = user.login;
      res.redirect(303, safeNext(body.next));
    });
  });

  // Logging out of a session that already expired just shows the login page.
  router.post('/logout', (req, res, next) => (res.locals.actor ? verifyCsrf(req, res, next) : res.redirect(303, '/login')), async (req, res, next) => {
    const actor = actorOf(res);
    await audit.record(knex, actor, clock.now(), 'user.logout', actor.name);
    req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/login')));
  });
  return router;
}
