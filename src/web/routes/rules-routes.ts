import { Router } from 'express';
import type { AppServices } from '../app.js';

/** «Закон и рассылки»: each rule of Russian law and the part of simcast that serves it. */
export function rulesRoutes({ settings }: AppServices): Router {
  const router = Router();
  router.get('/rules', async (_req, res) => {
    res.render('compliance/rules', { title: 'Закон и рассылки', window: (await settings.get()).window });
  });
  return router;
}
