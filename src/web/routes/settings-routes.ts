import { Router } from 'express';
import { settingsPatchSchema } from '../../settings/settings.js';
import type { AppServices } from '../app.js';
import { auditTrail } from '../audit-trail.js';

import { formNumber, given } from '../form-values.js';
import { actorOf, requireAdmin } from '../middleware/auth.js';
import { issuesText } from '../../i18n/validation-messages.js';

const fieldNames: Record<string, string> = {
  timezone: 'Часовой пояс',
  window: 'Окно отправки',
  notificationsKeepWindow: 'Уведомления только в окне',
  sendPauseSeconds: 'Пауза между SMS (от)',
  sendPauseMaxSeconds: 'Пауза между SMS (до)',
  dailyLimit: 'Лимит в сутки',
  monthlyLimit: 'Лимит в месяц',
  pricePerPart: 'Цена одной части SMS',
  maxParts: 'Наибольшее число частей',
  messageTimeoutSeconds: 'Сколько ждать ответа модема',
  deliveryReports: 'Отчёты о доставке',
  stopPhrases: 'Стоп-слова',
  optOutConfirmation: 'Подтверждение отписки',
  importMaxMb: 'Наибольший размер файла списка',
  importMaxRows: 'Наибольшее число строк в списке',
};

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export function settingsRoutes(services: AppServices): Router {
  const { settings, clock } = services;
  const trail = auditTrail(services);
  const router = Router();
  router.get('/settings', async (_req, res) => {
    res.render('settings', { title: 'Настройки', settings: await settings.get() });
  });
  router.post('/settings', requireAdmin, async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const from = text(b.windowFrom);
    const to = text(b.windowTo);
    const input = given({
      timezone: text(b.timezone),
      window: from || to ? { from: from ?? '', to: to ?? '' } : undefined,
      // Checkboxes: absent means off; the hidden `_checkboxes` marker says the form had them.
      notificationsKeepWindow: b._checkboxes ? b.notificationsKeepWindow === 'on' : undefined,
      deliveryReports: b._checkboxes ? b.deliveryReports === 'on' : undefined,
      sendPauseSeconds: formNumber(b.sendPauseSeconds),
      sendPauseMaxSeconds: formNumber(b.sendPauseMaxSeconds),
      dailyLimit: formNumber(b.dailyLimit),
      monthlyLimit: formNumber(b.monthlyLimit),
      pricePerPart: formNumber(b.pricePerPart),
      maxParts: formNumber(b.maxParts),
      messageTimeoutSeconds: formNumber(b.messageTimeoutSeconds),
      importMaxMb: formNumber(b.importMaxMb),
      importMaxRows: formNumber(b.importMaxRows),
      stopPhrases: typeof b.stopPhrases === 'string' ? b.stopPhrases.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : undefined,
      optOutConfirmation: b._checkboxes && typeof b.optOutConfirmationText === 'string'
        ? { enabled: b.optOutConfirmationEnabled === 'on', text: b.optOutConfirmationText.trim() }
        : undefined,
    });
    const parsed = settingsPatchSchema.safeParse(input);
    const current = await settings.get();
    const errors = parsed.success ? [] : issuesText(parsed.error, fieldNames);
    const pauseMin = parsed.data?.sendPauseSeconds ?? current.sendPauseSeconds;
    const pauseMax = parsed.data?.sendPauseMaxSeconds ?? current.sendPauseMaxSeconds;
    if (parsed.success && pauseMax < pauseMin) errors.push('Пауза «до» не может быть меньше паузы «от».');
    if (!parsed.success || errors.length) {
      res.status(422).render('settings', { title: 'Настройки', settings: { ...current, ...input }, errors });
      return;
    }
    await settings.update(parsed.data, clock.now());
    await trail(actorOf(res), 'settings.update', 'settings', { changed: Object.keys(parsed.data) });
    req.session.flash = 'Настройки сохранены.';
    res.redirect(303, '/settings');
  });
  return router;
}
