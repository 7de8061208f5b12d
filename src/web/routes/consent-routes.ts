import { Router, type Request, type Response } from 'express';
import type { ConsentView } from '../../compliance/compliance-service.js';
import { AppError, isAppError } from '../../errors.js';
import { consentSourceChoices, ru } from '../../i18n/ru.js';
import { dayKey, zonedInstant } from '../../scheduling/zoned-time.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { field, formError } from '../page-forms.js';

interface ConsentForm {
  phone: string;
  source: string;
  sourceOther: string;
  document: string;
  givenAt: string;
}

interface ConsentPageState {
  status?: number;
  form?: ConsentForm;
  formError?: { field: string | null; message: string };
  withdrawError?: string;
}

/**
 * The date field of the form → what the service takes: today → now (the exact moment is the better
 * evidence); another day → 00:00 of that day in the office's time zone.
 */
function givenAtOf(raw: string, now: Date, tz: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const dmy = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(text);
  const [y, m, d] = iso ? [iso[1], iso[2], iso[3]] : dmy ? [dmy[3], dmy[2], dmy[1]] : [];
  if (!y) throw new AppError('VALIDATION', ru.pages.badConsentDate, { field: 'givenAt' });
  const key = `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`;
  if (key === dayKey(now, tz)) return undefined;
  const at = zonedInstant({ year: Number(y), month: Number(m), day: Number(d), hour: 0, minute: 0 }, tz);
  if (Number.isNaN(at.getTime()) || dayKey(at, tz) !== key) throw new AppError('VALIDATION', ru.pages.badConsentDate, { field: 'givenAt' });
  return at.toISOString();
}

/** «Согласия»: a number's consent and its history, recording consent and its withdrawal, the latest entries. */
export function consentRoutes({ compliance, settings, clock }: AppServices): Router {
  const router = Router();

  async function render(req: Request, res: Response, phone: string, state: ConsentPageState = {}): Promise<void> {
    const tz = (await settings.get()).timezone;
    let lookup: ConsentView | null = null;
    let lookupError: string | null = null;
    if (phone.trim() !== '') {
      try {
        lookup = await compliance.consentOf(phone);
      } catch (error) {
        if (!isAppError(error)) throw error;
        lookupError = formError(error).message;
      }
    }
    const form = state.form ?? { phone: lookup?.phone ?? phone, source: consentSourceChoices[0], sourceOther: '', document: '', givenAt: dayKey(clock.now(), tz) };
    res.status(state.status ?? (lookupError ? 422 : 200)).render('compliance/consents', {
      title: 'Согласия',
      search: phone,
      lookup: lookup && { ...lookup, history: [...lookup.history].reverse() },
      lookupError,
      today: dayKey(clock.now(), tz),
      sources: consentSourceChoices.map((s) => ({ value: s, selected: s === form.source })),
      recent: await compliance.recentConsents(30),
      ...state,
      form,
    });
  }

  router.get('/consents', async (req, res) => {
    await render(req, res, typeof req.query.phone === 'string' ? req.query.phone.slice(0, 50) : '');
  });

  router.post('/consents', async (req, res) => {
    const form: ConsentForm = {
      phone: field(req.body, 'phone'),
      source: field(req.body, 'source'),
      sourceOther: field(req.body, 'sourceOther'),
      document: field(req.body, 'document'),
      givenAt: field(req.body, 'givenAt'),
    };
    try {
      const phone = compliance.phoneOf(form.phone);
      const other = form.source === 'другое';
      if (other && form.sourceOther.trim() === '') throw new AppError('VALIDATION', ru.pages.otherSourceNeeded, { field: 'sourceOther' });
      const tz = (await settings.get()).timezone;
      await compliance.giveConsent(actorOf(res), {
        phone,
        source: other ? form.sourceOther : form.source,
        document: form.document,
        givenAt: givenAtOf(form.givenAt, clock.now(), tz),
      });
      req.session.flash = ru.pages.consentGiven;
      res.redirect(303, `/consents?phone=${encodeURIComponent(phone)}`);
    } catch (error) {
      if (!isAppError(error)) throw error;
      await render(req, res, form.phone, { status: error.status, form, formError: formError(error) });
    }
  });

  router.post('/consents/withdraw', async (req, res) => {
    const raw = field(req.body, 'phone');
    try {
      const phone = compliance.phoneOf(raw);
      await compliance.withdrawConsent(actorOf(res), phone, field(req.body, 'reason') || undefined, field(req.body, 'document') || undefined);
      req.session.flash = ru.pages.consentWithdrawn;
      res.redirect(303, `/consents?phone=${encodeURIComponent(phone)}`);
    } catch (error) {
      if (!isAppError(error)) throw error;
      await render(req, res, raw, { status: error.status, withdrawError: formError(error).message });
    }
  });
  return router;
}
