import { Router } from 'express';
import { LoginThrottle } from '../../auth/login-throttle.js';
import { hashPassword, verifyPassword } from '../../auth/password.js';
import type { AppServices } from '../app.js';
import { verifyCsrf } from '../middleware/csrf.js';

/** Only local paths are followed after login, never another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/campaigns';
}

let dummyHash: Promise<string> | undefined;

export function authRoutes({ users, clock }: AppServices): Router {
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
    if (!user || !ok) {
      perLogin.recordFailure(pair, clock.now());
      perAddress.recordFailure(address, clock.now());
      res.status(401).render('login', { title: 'Вход', next: safeNext(body.next), bare: true, login, error: 'Неверный логин или пароль.' });
      return;
    }
    perLogin.recordSuccess(pair);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = user.id;
      req.session.login = user.login;
      req.session.role = user.role;
      res.redirect(303, safeNext(body.next));
    });
  });

  // Logging out of a session that already expired just shows the login page.
  router.post('/logout', (req, res, next) => (req.session.userId ? verifyCsrf(req, res, next) : res.redirect(303, '/login')), (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/login')));
  });
  return router;
}
