import { Router } from 'express';
import { auditActions } from '../../audit/audit-log.js';
import { auditActionWords } from '../../i18n/ru.js';
import type { AppServices } from '../app.js';
import { actorName } from '../hbs-helpers.js';
import { requireAdmin } from '../middleware/auth.js';

const pageSize = 200;

/** «Журнал действий» (administrators only): who did what, when and from where; newest first. */
export function auditRoutes({ audit }: AppServices): Router {
  const router = Router();
  router.get('/audit', requireAdmin, async (req, res) => {
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 200) : undefined);
    const action = auditActions.includes(req.query.action as never) ? (req.query.action as string) : undefined;
    const actor = str(req.query.actor);
    const before = typeof req.query.before === 'string' && /^[1-9]\d{0,9}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const entries = await audit.list({ action, actor, before, limit: pageSize });
    const actors = await audit.actors();
    const filterQuery = new URLSearchParams({ ...(action ? { action } : {}), ...(actor ? { actor } : {}) });
    res.render('compliance/audit', {
      title: 'Журнал действий',
      entries,
      actions: auditActions.map((a) => ({ value: a, text: auditActionWords[a] ?? a, selected: a === action })),
      actors: actors.map((a) => ({ value: a, text: actorName(a), selected: a === actor })),
      filtered: Boolean(action || actor),
      older: entries.length === pageSize ? `/audit?${new URLSearchParams({ ...Object.fromEntries(filterQuery), before: String(entries[entries.length - 1]!.id) }).toString()}` : null,
      newer: before !== undefined ? `/audit${filterQuery.size ? `?${filterQuery.toString()}` : ''}` : null,
    });
  });
  return router;
}
