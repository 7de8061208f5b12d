import { Router, type Request, type Response } from 'express';
import { Accounts, roleWords } from '../../auth/accounts.js';
import { isAppError } from '../../errors.js';
import type { AppServices } from '../app.js';
import { actorOf, requireRole } from '../middleware/auth.js';
import { parseId } from '../params.js';

declare module 'express-session' {
  interface SessionData {
    /** A problem to show once on the next page, after a redirect (like `flash`, in red). */
    flashError?: string;
  }
}

/** `user:anna` → anna; `system:cli` → командная строка; older tokens have no author. */
function createdByWords(label: string | null): string {
  if (!label) return '—';
  if (label === 'system:cli') return 'командная строка';
  return label.replace(/^user:/, '');
}

function takeFlashError(req: Request): string | undefined {
  const message = req.session.flashError;
  if (message) delete req.session.flashError;
  return message;
}

/**
 * The admin's pages «Пользователи» (/users) and «Токены API» (/tokens). Every route here is
 * admin-only; changes are POST → redirect → GET with a flash, except a new token, which is shown
 * on the answer to its POST only (it is never stored, not even in the session).
 */
export function accountRoutes({ knex, users, tokens, audit, clock }: AppServices): Router {
  const accounts = new Accounts(knex, users, tokens, audit);
  const router = Router();
  router.use(['/users', '/tokens'], requireRole('admin'));

  async function usersPage(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    const me = actorOf(res);
    const list = (await users.list()).map((u) => ({ ...u, roleWord: roleWords[u.role], isAdmin: u.role === 'admin', isSelf: u.id === me.id }));
    res.status(status).render('users', { title: 'Пользователи', users: list, flashError: takeFlashError(req), ...extra });
  }

  router.get('/users', async (req, res) => {
    await usersPage(req, res, { form: { role: 'staff' } });
  });

  router.post('/users', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const form = { login: String(b.login ?? '').trim().slice(0, 100), role: b.role === 'admin' ? 'admin' : 'staff' };
    try {
      const user = await accounts.createUser(actorOf(res), clock.now(), { login: b.login, role: b.role, password: b.password });
      req.session.flash = `Пользователь «${user.login}» создан (${roleWords[user.role]}). Сообщите ему логин и пароль.`;
      res.redirect(303, '/users');
    } catch (error) {
      if (!isAppError(error)) throw error;
      await usersPage(req, res, { form, createError: error.message }, error.status);
    }
  });

  /** A change to one user: flash what happened (or why not) and show the list again. */
  function userAction(path: string, act: (req: Request, res: Response, id: number) => Promise<string>) {
    router.post(`/users/:id/${path}`, async (req, res) => {
      const id = parseId(req.params.id);
      try {
        req.session.flash = await act(req, res, id);
      } catch (error) {
        if (!isAppError(error)) throw error;
        req.session.flashError = error.message;
      }
      res.redirect(303, '/users');
    });
  }

  userAction('role', async (req, res, id) => {
    const user = await accounts.setRole(actorOf(res), clock.now(), id, (req.body as Record<string, unknown> | undefined)?.role);
    return `«${user.login}» теперь ${roleWords[user.role]}.`;
  });
  userAction('password', async (req, res, id) => {
    const user = await accounts.resetPassword(actorOf(res), clock.now(), id, (req.body as Record<string, unknown> | undefined)?.password, req.sessionID);
    return `Пароль пользователя «${user.login}» изменён. Если он был в системе, ему нужно войти заново.`;
  });
  userAction('disable', async (_req, res, id) => {
    const user = await accounts.setDisabled(actorOf(res), clock.now(), id, true);
    return `«${user.login}» отключён: войти больше не сможет, открытые страницы закрыты.`;
  });
  userAction('enable', async (_req, res, id) => {
    const user = await accounts.setDisabled(actorOf(res), clock.now(), id, false);
    return `«${user.login}» снова может входить.`;
  });

  async function tokensPage(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    const list = (await tokens.list()).map((t) => ({ ...t, roleWord: roleWords[t.role], createdBy: createdByWords(t.createdBy) }));
    res.status(status).render('tokens', { title: 'Токены API', tokens: list, flashError: takeFlashError(req), form: { role: 'staff' }, ...extra });
  }

  router.get('/tokens', async (req, res) => {
    await tokensPage(req, res);
  });

  router.post('/tokens', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    try {
      const created = await accounts.createToken(actorOf(res), clock.now(), { name: b.name, role: b.role });
      // The token itself is on this answer only: never cached, never kept.
      res.set('Cache-Control', 'no-store');
      await tokensPage(req, res, { created: { ...created, roleWord: roleWords[created.role] } }, 201);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const form = { name: String(b.name ?? '').slice(0, 100), role: b.role === 'admin' ? 'admin' : 'staff' };
      await tokensPage(req, res, { form, createError: error.message }, error.status);
    }
  });

  router.post('/tokens/:id/revoke', async (req, res) => {
    try {
      const { name, revoked } = await accounts.revokeToken(actorOf(res), clock.now(), parseId(req.params.id));
      req.session.flash = revoked ? `Токен «${name}» отозван: он больше не работает.` : `Токен «${name}» уже был отозван.`;
    } catch (error) {
      if (!isAppError(error)) throw error;
      req.session.flashError = error.message;
    }
    res.redirect(303, '/tokens');
  });
  return router;
}
