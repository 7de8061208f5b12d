import { Router, type Request, type Response } from 'express';
import { isAppError } from '../../errors.js';
import { messageStates } from '../../dispatcher/message-state.js';
import { defaultRepeatGuardMinutes, dialplanOutcomes, keepWindowValues, templateNamePattern } from '../../notifications/notification-policy.js';
import type { AppServices } from '../app.js';
import { actorOf, requireRole } from '../middleware/auth.js';
import { field, formError } from '../page-forms.js';
import { parsePage } from '../params.js';

const pageSize = 100;

/** What each window choice means, for the form. */
const keepWindowWords: Record<string, string> = {
  setting: 'как в настройках («уведомления тоже только в окне»)',
  queue: 'ждать окна отправки',
  drop: 'вне окна не отправлять',
  any: 'отправлять в любое время',
};

const outcomeWords: Record<string, string> = {
  queued: 'поставлено в очередь',
  repeat: 'повтор (защита от повторов)',
  'stop-list': 'стоп-лист',
  'outside-window': 'вне окна',
  landline: 'городской номер',
  'invalid-phone': 'неверный номер',
  'unknown-template': 'нет такого шаблона',
  malformed: 'неправильное событие',
  'bad-text': 'текст не собрать',
  error: 'ошибка',
};

interface TemplateForm { name: string; text: string; repeatGuardMinutes: string; keepWindow: string }

/** «Уведомления»: named templates (admins edit) and the notifications sent, by template and state. */
export function notificationRoutes(services: AppServices): Router {
  const { notifications } = services;
  const router = Router();

  async function render(req: Request, res: Response, state: { status?: number; form?: TemplateForm; formError?: { field: string | null; message: string } } = {}): Promise<void> {
    const template = typeof req.query.template === 'string' && templateNamePattern.test(req.query.template) ? req.query.template : '';
    const stateFilter = typeof req.query.state === 'string' && (messageStates as readonly string[]).includes(req.query.state) ? req.query.state : '';
    const page = parsePage(req.query.page);
    const templates = await notifications.templates();
    const { total, items } = await notifications.list({ template: template || undefined, state: stateFilter || undefined, limit: pageSize, offset: (page - 1) * pageSize });
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const query = (p: number) => `/notifications?${new URLSearchParams({ ...(template ? { template } : {}), ...(stateFilter ? { state: stateFilter } : {}), page: String(p) }).toString()}`;
    const editing = typeof req.query.edit === 'string' ? templates.find((t) => t.name === req.query.edit) : undefined;
    const form: TemplateForm = state.form ?? (editing
      ? { name: editing.name, text: editing.text, repeatGuardMinutes: String(editing.repeatGuardMinutes), keepWindow: editing.keepWindow }
      : { name: '', text: '', repeatGuardMinutes: String(defaultRepeatGuardMinutes), keepWindow: 'setting' });
    const stats = notifications.dialplanStats();
    res.status(state.status ?? 200).render('notifications', {
      title: 'Уведомления',
      templates: templates.map((t) => ({ ...t, keepWindowText: keepWindowWords[t.keepWindow] ?? t.keepWindow, selected: t.name === template })),
      states: messageStates.map((s) => ({ value: s, selected: s === stateFilter })),
      filter: { template, state: stateFilter },
      items,
      total,
      page,
      pages,
      prev: page > 1 ? query(page - 1) : null,
      next: page < pages ? query(page + 1) : null,
      form,
      editing: Boolean(editing) || Boolean(state.form?.name && templates.some((t) => t.name === state.form?.name)),
      keepWindowOptions: keepWindowValues.map((v) => ({ value: v, text: keepWindowWords[v], selected: v === form.keepWindow })),
      formError: state.formError,
      stats: { total: stats.total, outcomes: dialplanOutcomes.filter((o) => stats[o] > 0).map((o) => ({ text: outcomeWords[o] ?? o, count: stats[o] })) },
    });
  }

  router.get('/notifications', async (req, res) => {
    await render(req, res);
  });

  router.post('/notifications/templates', requireRole('admin'), async (req, res) => {
    const form: TemplateForm = {
      name: field(req.body, 'name').trim(),
      text: field(req.body, 'text'),
      repeatGuardMinutes: field(req.body, 'repeatGuardMinutes').trim(),
      keepWindow: field(req.body, 'keepWindow'),
    };
    try {
      const { created } = await notifications.saveTemplate(actorOf(res), form.name, {
        text: form.text, repeatGuardMinutes: form.repeatGuardMinutes === '' ? undefined : Number(form.repeatGuardMinutes), keepWindow: form.keepWindow || undefined,
      });
      req.session.flash = created ? `Шаблон «${form.name}» создан.` : `Шаблон «${form.name}» сохранён.`;
      res.redirect(303, '/notifications');
    } catch (error) {
      if (!isAppError(error)) throw error;
      await render(req, res, { status: error.status, form, formError: formError(error) });
    }
  });

  return router;
}
