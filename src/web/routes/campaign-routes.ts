import { Router } from 'express';
import type { CampaignAction, CampaignKind } from '../../campaigns/campaign.js';
import { isAppError } from '../../errors.js';
import { messageStates, type MessageState } from '../../dispatcher/message-state.js';
import { messageStateWords } from '../../i18n/ru.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { actorLabel } from '../../auth/actor.js';
import { auditTrail } from '../audit-trail.js';

import { parseId, parsePage } from '../params.js';
import { campaignLive, messageRow, reportRow, testSendRow } from '../view-models/campaign-view.js';
import { sendReport } from '../report-download.js';
import { maskPhone } from '../../compliance/redact.js';
import { ru } from '../../i18n/ru.js';

const pageSize = 50;
const actions: readonly CampaignAction[] = ['start', 'pause', 'resume', 'cancel'];
const actionDone: Record<CampaignAction, string> = {
  start: 'Рассылка запущена.',
  pause: 'Рассылка приостановлена: следующие SMS не уйдут, пока вы её не продолжите.',
  resume: 'Рассылка продолжается.',
  cancel: 'Рассылка отменена: оставшиеся SMS не будут отправлены.',
};

function parseState(raw: unknown): MessageState | undefined {
  return messageStates.find((s) => s === raw);
}

export function campaignRoutes(services: AppServices): Router {
  const { campaigns, lists, settings, sims, scheduler } = services;
  const trail = auditTrail(services);
  const router = Router();

  router.get('/campaigns', async (_req, res) => {
    const all = await campaigns.all();
    const rows = await Promise.all(all.map(async (c) => ({ ...c, live: campaignLive(c, await campaigns.counts(c.id)) })));
    res.render('campaigns/index', { title: 'Рассылки', campaigns: rows, hasLists: (await lists.all()).length > 0 });
  });

  router.get('/campaigns/new', async (req, res) => {
    const all = await lists.all();
    const listId = req.query.list ? Number(req.query.list) : all[0]?.id;
    res.render('campaigns/new', await newForm({ listId, name: '', kind: 'service', template: '', ignoreWindow: false, sims: [] }));
  });

  router.post('/campaigns/new', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form = {
      listId: Number(body.listId),
      name: String(body.name ?? ''),
      kind: (body.kind === 'advertising' ? 'advertising' : 'service') as CampaignKind,
      template: String(body.template ?? ''),
      ignoreWindow: body.ignoreWindow === 'on',
      sims: [body.sims ?? []].flat().map(String),
    };
    try {
      if (body.intent === 'create') {
        const { campaign } = await campaigns.create({ ...form, createdBy: actorLabel(actorOf(res)) });
        await trail(actorOf(res), 'campaign.create', `campaign:${campaign.id}`, { name: campaign.name, kind: campaign.kind });
        req.session.flash = 'Рассылка создана. Проверьте сводку и нажмите «Старт».';
        return res.redirect(303, `/campaigns/${campaign.id}`);
      }
      const preview = await campaigns.preview(form.listId, form.template, 10, form.kind);
      res.render('campaigns/new', { ...(await newForm(form)), preview });
    } catch (error) {
      if (!isAppError(error)) throw error;
      res.status(error.status).render('campaigns/new', { ...(await newForm(form)), error: error.message });
    }
  });

  router.get('/campaigns/:id', async (req, res) => {
    const campaign = await campaigns.get(parseId(req.params.id));
    // Independent reads side by side: the page's time is the slowest of them, not their sum.
    const [list, counts, problems, schedule, tests, current] = await Promise.all([
      campaigns.listSummary(campaign.listId),
      campaigns.counts(campaign.id),
      campaign.status === 'draft' ? campaigns.reportAfter(campaign.id, 0, 20, 'skipped') : null,
      scheduler.schedule(campaign),
      campaigns.tests(campaign.id),
      settings.get(),
    ]);
    res.render('campaigns/show', {
      title: campaign.name,
      campaign,
      list,
      columns: list?.columns ?? [],
      reportColumns: 7 + (list?.columns.length ?? 0),
      live: campaignLive(campaign, counts),
      schedule,
      problems: problems ? problems.map(messageRow) : [],
      tests: tests.map(testSendRow),
      states: messageStates.map((s) => ({ value: s, text: messageStateWords[s] })),
      settings: current,
    });
  });

  /** Polled by public/campaign.js every couple of seconds: counters, test sends and one page of the report. */
  router.get('/campaigns/:id/live', async (req, res) => {
    const campaign = await campaigns.get(parseId(req.params.id));
    const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const [counts, columns, schedule, tests] = await Promise.all([
      campaigns.counts(campaign.id),
      campaigns.reportColumns(campaign.listId),
      scheduler.schedule(campaign),
      campaigns.tests(campaign.id),
    ]);
    const report = await campaigns.report(campaign.id, { page: parsePage(req.query.page), pageSize, state: parseState(req.query.state), search: search || undefined }, counts);
    res.set('Cache-Control', 'no-store').json({
      campaign: campaignLive(campaign, counts),
      schedule,
      page: report.page,
      pages: Math.max(1, Math.ceil(report.total / pageSize)),
      total: report.total,
      columns,
      messages: report.items.map((m) => reportRow(m, columns)),
      tests: tests.map(testSendRow),
    });
  });

  /** «Отправить тест» from the page. */
  router.post('/campaigns/:id/test', async (req, res) => {
    const id = parseId(req.params.id);
    const body = (req.body ?? {}) as { phone?: unknown; row?: unknown };
    try {
      const sent = await campaigns.sendTest(id, { phone: body.phone, row: body.row });
      await trail(actorOf(res), 'campaign.test', `campaign:${id}`, { phone: maskPhone(sent.phone), row: sent.rowNumber, state: sent.state });
      req.session.flash = sent.reason ? ru.report.testSkipped(sent.reason) : ru.report.testSent(sent.phone);
    } catch (error) {
      if (!isAppError(error)) throw error;
      req.session.flash = error.message;
    }
    res.redirect(303, `/campaigns/${id}#tests`);
  });

  /** The report as a file (the page's «Скачать» links). */
  router.get('/campaigns/:id/export', async (req, res) => {
    await sendReport(services, req, res, actorOf(res));
  });

  router.post('/campaigns/:id/:action', async (req, res) => {
    const action = actions.find((a) => a === req.params.action);
    const id = parseId(req.params.id);
    if (!action) return res.redirect(303, `/campaigns/${id}`);
    try {
      await campaigns.act(id, action);
      await trail(actorOf(res), `campaign.${action}`, `campaign:${id}`);
      req.session.flash = actionDone[action];
    } catch (error) {
      if (!isAppError(error)) throw error;
      req.session.flash = error.message;
    }
    res.redirect(303, `/campaigns/${id}`);
  });

  async function newForm(form: { listId: number | undefined; name: string; kind: CampaignKind; template: string; ignoreWindow: boolean; sims: string[] }) {
    const all = await lists.all();
    const list = all.find((l) => l.id === form.listId) ?? null;
    const known = await sims.list([]);
    return {
      title: 'Новая рассылка',
      lists: all.map((l) => ({ id: l.id, name: l.name, imported: l.imported, selected: l.id === list?.id })),
      list,
      form: { ...form, isAdvertising: form.kind === 'advertising' },
      sims: known.map((s) => ({ imsi: s.imsi, device: s.device, checked: form.sims.includes(s.imsi) })),
      settings: await settings.get(),
    };
  }
  return router;
}
