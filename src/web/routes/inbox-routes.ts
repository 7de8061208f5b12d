import { Router } from 'express';
import type { InboundRecord } from '../../compliance/compliance-repo.js';
import { AppError } from '../../errors.js';
import { ru } from '../../i18n/ru.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { field } from '../page-forms.js';
import { parseId } from '../params.js';

const pageSize = 100;
const shows = ['all', 'unhandled', 'optout'] as const;
type Show = (typeof shows)[number];

function showOf(raw: unknown): Show {
  return shows.includes(raw as Show) ? (raw as Show) : 'all';
}

/** Where a form sends the user back: the same filter (nothing else from the form is trusted). */
function backTo(show: Show): string {
  return show === 'all' ? '/inbox' : `/inbox?show=${show}`;
}

/** A contact's first few fields, shown beside the SMS so staff know who wrote. */
function contactView(contact: InboundRecord['contact'], from: string) {
  if (!contact) return null;
  const sameNumber = (v: string) => v.replace(/\D/g, '').slice(-10) === from.replace(/\D/g, '').slice(-10);
  const fields = Object.entries(contact.fields ?? {})
    // The phone column says again what «От кого» already shows.
    .filter(([, v]) => typeof v === 'string' && v.trim() !== '' && !sameNumber(v))
    .slice(0, 3)
    .map(([name, value]) => ({ name, value }));
  return { listId: contact.listId, listName: contact.listName, fields };
}

/** «Входящие»: every incoming SMS, newest first; opt-outs marked; handled / not handled. */
export function inboxRoutes({ compliance }: AppServices): Router {
  const router = Router();

  router.get('/inbox', async (req, res) => {
    const show = showOf(req.query.show);
    const before = typeof req.query.before === 'string' && /^[1-9]\d{0,9}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const items = await compliance.inbox({ unhandled: show === 'unhandled', optOut: show === 'optout', limit: pageSize, before });
    res.render('compliance/inbox', {
      title: 'Входящие',
      show,
      filters: [
        { value: 'all', text: 'все', href: '/inbox', current: show === 'all' },
        { value: 'unhandled', text: 'необработанные', href: '/inbox?show=unhandled', current: show === 'unhandled' },
        { value: 'optout', text: 'отписки', href: '/inbox?show=optout', current: show === 'optout' },
      ],
      items: items.map((m) => ({ ...m, contact: contactView(m.contact, m.from) })),
      older: items.length === pageSize ? `${backTo(show)}${show === 'all' ? '?' : '&'}before=${items[items.length - 1]!.id}` : null,
      newer: before !== undefined ? backTo(show) : null,
    });
  });

  router.post('/inbox/:id/handled', async (req, res) => {
    const handled = field(req.body, 'handled') === '1';
    await compliance.setHandled(actorOf(res), parseId(req.params.id), handled);
    req.session.flash = handled ? ru.pages.handled : ru.pages.unhandled;
    res.redirect(303, backTo(showOf(field(req.body, 'show'))));
  });

  /** An ordinary reply that still means «no more SMS»: staff put the sender on the stop-list from here. */
  router.post('/inbox/:id/stop-list', async (req, res) => {
    const id = parseId(req.params.id);
    const sms = await compliance.inboundMessage(id);
    if (!sms) throw new AppError('NOT_FOUND', ru.compliance.inboundNotFound);
    const { created } = await compliance.addToStopList(actorOf(res), sms.from, ru.compliance.inboundDocument(id));
    req.session.flash = created ? ru.pages.stopListAdded : ru.pages.stopListAlready;
    res.redirect(303, backTo(showOf(field(req.body, 'show'))));
  });
  return router;
}
