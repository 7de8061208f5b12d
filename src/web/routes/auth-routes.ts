import { Router } from 'express';
import { verifyPassword } from '../../auth/password.js';
import type { AppServices } from '../app.js';
import { verifyCsrf } from '../middleware/csrf.js';

/** Only local paths are followed after login, never another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/campaigns';
}

export function authRoutes({ users }: AppServices): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    if (req.session.userId) return res.redirect('/campaigns');
    res.render('login', { title: 'Вход', next: safeNext(req.query.next), bare: true });
  });

  router.post('/login', verifyCsrf, async (req, res, next) => {
    const login = String(req.body.login ?? '').trim();
    const password = String(req.body.password ?? '');
    const user = login ? await users.findForLogin(login) : null;
    // Verify even for an unknown login would be nicer against timing; the slow hash dominates.
    const ok = user ? await verifyPassword(password, user.passwordHash) : false;
    if (!user || !ok) {
      res.status(401).render('login', { title: 'Вход', next: safeNext(req.body.next), bare: true, login, error: 'Неверный логин или пароль.' });
      return;
    }
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
