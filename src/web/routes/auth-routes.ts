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
  const throttle = new LoginThrottle();

  router.get('/login', (req, res) => {
    if (req.session.userId) return res.redirect('/campaigns');
    res.render('login', { title: 'Вход', next: safeNext(req.query.next), bare: true });
  });

  router.post('/login', verifyCsrf, async (req, res, next) => {
    const login = String(req.body.login ?? '').trim().slice(0, 100);
    const password = String(req.body.password ?? '');
    const keys = [`login:${login.toLowerCase()}`, `ip:${req.ip ?? ''}`];
    const wait = throttle.retryAfterMs(keys, clock.now());
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      res.status(429).render('login', { title: 'Вход', next: safeNext(req.body.next), bare: true, login, error: `Слишком много неудачных попыток входа. Попробуйте снова через ${minutes} мин.` });
      return;
    }
    const user = login ? await users.findForLogin(login) : null;
    // An unknown login costs the same slow hash, so response time does not tell which logins exist.
    dummyHash ??= hashPassword('not-a-password');
    const ok = await verifyPassword(password, user ? user.passwordHash : await dummyHash);
    if (!user || !ok) {
      throttle.recordFailure(keys, clock.now());
      res.status(401).render('login', { title: 'Вход', next: safeNext(req.body.next), bare: true, login, error: 'Неверный логин или пароль.' });
      return;
    }
    throttle.recordSuccess(keys);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = user.id;
      req.session.login = user.login;
      req.session.role = user.role;
      res.redirect(303, safeNext(req.body.next));
    });
  });

  router.post('/logout', verifyCsrf, (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/login')));
  });
  return router;
}
