import { Router } from 'express';
import { AppError, isAppError } from '../../errors.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { actorLabel } from '../../auth/actor.js';
import { auditTrail } from '../audit-trail.js';

import { verifyCsrf } from '../middleware/csrf.js';
import { uploadFile } from '../upload.js';
import { parseId } from '../params.js';
import { consentOfForm } from '../api/api-router.js';

export function listRoutes(services: AppServices): Router {
  const { lists } = services;
  const trail = auditTrail(services);
  const router = Router();

  router.get('/lists', async (_req, res) => {
    res.render('lists/index', { title: 'Списки', lists: await lists.all() });
  });

  // multer parses the body first, so the CSRF token in the form can be checked.
  router.post('/lists', uploadFile, verifyCsrf, async (req, res) => {
    const form = {
      name: String(req.body?.name ?? ''),
      phoneColumn: String(req.body?.phoneColumn ?? ''),
      consentColumn: String(req.body?.consentColumn ?? ''),
      consentSource: String(req.body?.consentSource ?? ''),
    };
    try {
      if (!req.file || req.file.size === 0) throw new AppError('BAD_FILE', 'Выберите файл со списком (.xlsx или .csv).');
      const list = await lists.importFile({
        data: req.file.buffer,
        fileName: req.file.originalname,
        name: form.name,
        phoneColumn: form.phoneColumn,
        createdBy: actorLabel(actorOf(res)),
        consent: consentOfForm(req.body),
      });
      await trail(actorOf(res), 'list.upload', `list:${list.id}`, { name: list.name, imported: list.imported, rejected: list.rejected.length });
      res.redirect(303, `/lists/${list.id}`);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const columns = (error.details as { columns?: string[] } | undefined)?.columns;
      res.status(error.status).render('lists/index', { title: 'Списки', lists: await lists.all(), error: error.message, form, columns });
    }
  });

  router.get('/lists/:id', async (req, res) => {
    const list = await lists.get(parseId(req.params.id));
    const sample = await lists.contacts(list.id, 20);
    res.render('lists/show', {
      title: list.name,
      list,
      sample: sample.map((c) => ({ ...c, cells: list.columns.map((col) => c.fields[col] ?? '') })),
      rejectedShown: list.rejected.slice(0, 500),
      rejectedMore: Math.max(0, list.rejected.length - 500),
    });
  });
  return router;
}
