import { Router, type Response } from 'express';
import type { ErasureCounts, ErasureRecord } from '../../compliance/erasure-repo.js';
import { isAppError } from '../../errors.js';
import type { AppServices } from '../app.js';
import { actorOf, requireAdmin } from '../middleware/auth.js';

const title = 'Удаление персональных данных';

/** How the register shows what was erased: plain words, only the kinds that had rows. */
const countWords: Array<[keyof ErasureCounts, string]> = [
  ['listContacts', 'строк в списках'],
  ['uploadReportRows', 'строк в отчётах загрузки'],
  ['messages', 'SMS в отчётах'],
  ['waitingSkipped', 'из них не отправлено'],
  ['inbound', 'входящих SMS'],
  ['mentions', 'упоминаний номера у других'],
  ['listFiles', 'сохранённых файлов списков (загрузите их заново, если нужно)'],
  ['consents', 'записей о согласии'],
  ['stopList', 'запись в стоп-листе'],
];

function countsText(counts: Partial<ErasureCounts>): string {
  const parts = countWords.filter(([key]) => (counts[key] ?? 0) > 0).map(([key, words]) => `${words}: ${counts[key]}`);
  return parts.length ? parts.join(', ') : 'ничего не нашлось';
}

/**
 * «Удаление персональных данных» (152-FZ), administrators only. The number is never put in the
 * session (nor in a flash message): only the form's own response may show what was typed.
 */
export function erasureRoutes({ erasure }: AppServices): Router {
  const router = Router();
  const render = async (res: Response, extra: Record<string, unknown> = {}) => {
    const register = await erasure.register(200);
    res.render('erasures', {
      title,
      register: register.map((e: ErasureRecord) => ({ ...e, countsText: countsText(e.counts) })),
      ...extra,
    });
  };

  router.get('/erasures', requireAdmin, async (_req, res) => {
    await render(res);
  });

  router.post('/erasures', requireAdmin, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const phone = typeof body.phone === 'string' ? body.phone.slice(0, 200) : '';
    if (body.confirm !== 'on') {
      res.status(422);
      await render(res, { error: 'Поставьте отметку «Я понимаю…»: без неё данные не удаляются.', form: { phone } });
      return;
    }
    try {
      await erasure.erase(actorOf(res), phone);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'VALIDATION') throw error;
      res.status(422);
      await render(res, { error: `Номер не распознан: ${error.message.replace(/^phone: /, '')}`, form: { phone } });
      return;
    }
    req.session.flash = 'Данные удалены. Номер больше не получит SMS.';
    res.redirect(303, '/erasures');
  });
  return router;
}
