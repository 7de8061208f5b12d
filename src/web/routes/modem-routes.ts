import { Router } from 'express';
import { isAppError } from '../../errors.js';
import { ru } from '../../i18n/ru.js';
import type { SendPace } from '../../scheduling/send-pace.js';
import type { AppServices } from '../app.js';
import { auditTrail } from '../audit-trail.js';

import { formNumber, given } from '../form-values.js';
import { actorOf, requireAdmin } from '../middleware/auth.js';

export function modemRoutes(services: AppServices): Router {
  const { sims } = services;
  const trail = auditTrail(services);
  const router = Router();

  router.get('/modems', async (req, res) => {
    const { modems, error } = await sims.modems();
    const list = await sims.list(modems ?? []);
    res.render('modems', {
      title: 'Модемы',
      modems,
      error,
      sims: list.map((s) => ({
        ...s,
        dayPercent: s.dailyLimit ? Math.min(100, Math.round((s.usedToday / s.dailyLimit) * 100)) : 100,
        monthPercent: s.monthlyLimit ? Math.min(100, Math.round((s.usedThisMonth / s.monthlyLimit) * 100)) : 100,
        paceText: paceText(s.sendPace),
      })),
      paceColumn: ru.sendPace.column,
      paceHint: ru.sendPace.hint,
      isAdmin: res.locals.actor?.role === 'admin',
    });
  });

  router.post('/sims/:imsi', requireAdmin, async (req, res) => {
    const imsi = String(req.params.imsi);
    const body = (req.body ?? {}) as Record<string, unknown>;
    // The checkbox comes after a hidden "0" of the same name: the last value is the box's state.
    const enabled = [body.enabled ?? []].flat().pop() as string | undefined;
    const patch = given({
      enabled: enabled === undefined ? undefined : enabled === 'on',
      dailyLimit: formNumber(body.dailyLimit),
      monthlyLimit: formNumber(body.monthlyLimit),
      minPauseSeconds: formNumber(body.minPauseSeconds),
      maxPauseSeconds: formNumber(body.maxPauseSeconds),
      pricePerPart: formNumber(body.pricePerPart),
    });
    try {
      await sims.update(imsi, patch);
      await trail(actorOf(res), 'sim.update', `sim:${imsi}`, patch);
      req.session.flash = `SIM-карта ${imsi}: сохранено.`;
    } catch (error) {
      if (!isAppError(error)) throw error;
      req.session.flash = `SIM-карта ${imsi}: ${error.message}`;
    }
    res.redirect(303, '/modems');
  });
  return router;
}

/** «≈ 6,2 с на SMS (по последним 50)», or «нет данных — считаем 3 с» without enough history. */
export function paceText(pace: SendPace): string {
  const seconds = pace.seconds.toLocaleString('ru-RU', { maximumFractionDigits: pace.seconds < 1 ? 2 : 1 });
  return pace.learned ? ru.sendPace.learned(seconds, pace.samples) : ru.sendPace.unknown(seconds);
}
