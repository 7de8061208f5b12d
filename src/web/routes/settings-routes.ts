import { Router } from 'express';
import { settingsPatchSchema } from '../../settings/settings.js';
import type { AppServices } from '../app.js';
import { requireAdmin } from '../middleware/auth.js';

const fieldNames: Record<string, string> = {
  sendPauseSeconds: 'Пауза между SMS',
  pricePerPart: 'Цена одной части SMS',
  maxParts: 'Наибольшее число частей',
  messageTimeoutSeconds: 'Сколько ждать ответа модема',
};

/** Form fields arrive as text; "0,06" (Russian decimal comma) is accepted. */
function toNumber(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return Number(v.trim().replace(',', '.'));
}

export function settingsRoutes({ settings, clock }: AppServices): Router {
  const router = Router();
  router.get('/settings', async (_req, res) => {
    res.render('settings', { title: 'Настройки', settings: await settings.get() });
  });
  router.post('/settings', requireAdmin, async (req, res) => {
    const input = Object.fromEntries(Object.keys(fieldNames).map((k) => [k, toNumber(req.body[k])]).filter(([, v]) => v !== undefined));
    const parsed = settingsPatchSchema.safeParse(input);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => `${fieldNames[String(i.path[0])] ?? i.path.join('.')}: недопустимое значение`);
      res.status(422).render('settings', { title: 'Настройки', settings: { ...(await settings.get()), ...req.body }, errors });
      return;
    }
    await settings.update(parsed.data, clock.now());
    req.session.flash = 'Настройки сохранены.';
    res.redirect(303, '/settings');
  });
  return router;
}
