import { Router } from 'express';
import { costOf, type CampaignAction, type CampaignKind } from '../../campaigns/campaign.js';
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
import { SavedTemplates } from '../../campaigns/saved-templates.js';
import type { Preview } from '../../campaigns/campaigns-service.js';
import { unionOfColumns } from '../../campaigns/recipients.js';
import { ru } from '../../i18n/ru.js';

/** Tags compared as ListsRepo.idsWithTags compares them. */
const tagKey = (t: string) => t.trim().toLocaleLowerCase('ru-RU').replaceAll('ё', 'е');

/** What the preview block of the new-campaign page shows. */
function previewView(preview: Preview) {
  const names = new Map(preview.lists.map((l) => [l.id, l.name]));
  const several = preview.lists.length > 1;
  const encodingWords = { gsm7: 'латиница (GSM-7)', ucs2: 'кириллица (UCS-2)' } as const;
  return {
    ...preview,
    several,
    listNames: preview.lists.map((l) => l.name).join(', '),
    // Every broken row goes in the API answer; a page of 100 000 lines would not open, so the first 1000.
    problemsShown: preview.summary.problems.slice(0, 1000),
    problemsMore: Math.max(0, preview.summary.problems.length - 1000),
    rows: preview.rows.map((m) => ({
      ...m,
      list: several && m.listId !== undefined ? names.get(m.listId) : undefined,
      encodingText: encodingWords[m.encoding],
      fieldsText: Object.entries(m.fields).map(([k, v]) => `${k}: ${v}`).join('; '),
    })),
  };
}

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
  const savedTemplates = new SavedTemplates(services.knex, services.clock);
  const router = Router();

  router.get('/campaigns', async (_req, res) => {
    const all = await campaigns.all();
    const rows = await Promise.all(all.map(async (c) => ({ ...c, live: campaignLive(c, await campaigns.counts(c.id)) })));
    res.render('campaigns/index', { title: 'Рассылки', campaigns: rows, hasLists: (await lists.all()).length > 0 });
  });

  router.get('/campaigns/new', async (req, res) => {
    const all = await lists.all();
    const listId = req.query.list ? Number(req.query.list) : all[0]?.id;
    let template = '';
    let error: string | undefined;
    if (req.query.template) {
      // "Использовать" next to a saved text (also works without JavaScript).
      try {
        template = (await savedTemplates.get(Number(req.query.template))).text;
      } catch (e) {
        if (!isAppError(e)) throw e;
        error = e.message;
      }
    }
    const form = { listIds: listId !== undefined ? [listId] : [], tags: [], name: '', kind: 'service' as CampaignKind, template, ignoreWindow: false, sims: [], translit: false, q: '', templateName: '' };
    res.status(error ? 404 : 200).render('campaigns/new', { ...(await newForm(form)), error });
  });

  router.post('/campaigns/new', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const strings = (v: unknown) => [v ?? []].flat().filter((x): x is string => typeof x === 'string');
    const form = {
      listIds: strings(body.listIds).map(Number).filter((n) => Number.isInteger(n) && n > 0),
      tags: strings(body.tags).map((t) => t.trim()).filter(Boolean),
      name: String(body.name ?? ''),
      kind: (body.kind === 'advertising' ? 'advertising' : 'service') as CampaignKind,
      template: String(body.template ?? ''),
      ignoreWindow: body.ignoreWindow === 'on',
      sims: strings(body.sims),
      translit: body.translit === 'on',
      q: String(body.q ?? '').slice(0, 100),
      templateName: String(body.templateName ?? ''),
    };
    const target = { listIds: form.listIds, tags: form.tags };
    try {
      if (body.intent === 'create') {
        const { campaign } = await campaigns.create({ ...form, ...target, createdBy: actorLabel(actorOf(res)) });
        await trail(actorOf(res), 'campaign.create', `campaign:${campaign.id}`, { name: campaign.name, kind: campaign.kind, lists: campaign.listIds, translit: campaign.translit });
        req.session.flash = 'Рассылка создана. Проверьте сводку и нажмите «Старт».';
        return res.redirect(303, `/campaigns/${campaign.id}`);
      }
      if (body.intent === 'save-template') {
        const { template, created } = await savedTemplates.save({ name: form.templateName, text: form.template }, actorLabel(actorOf(res)));
        await trail(actorOf(res), 'template.save', `template:${template.id}`, { name: template.name, created });
        return res.render('campaigns/new', { ...(await newForm({ ...form, templateName: '' })), notice: ru.campaignTargets.templateSaved(template.name) });
      }
      if (body.intent === 'load-template') {
        const saved = await savedTemplates.get(Number(body.savedTemplate));
        return res.render('campaigns/new', await newForm({ ...form, template: saved.text }));
      }
      const preview = await campaigns.preview(target, form.template, { rowsShown: 10, kind: form.kind, translit: form.translit, q: form.q });
      res.render('campaigns/new', { ...(await newForm(form)), preview: previewView(preview) });
    } catch (error) {
      if (!isAppError(error)) throw error;
      res.status(error.status).render('campaigns/new', { ...(await newForm(form)), error: error.message });
    }
  });

  router.get('/campaigns/:id', async (req, res) => {
    const campaign = await campaigns.get(parseId(req.params.id));
    // Independent reads side by side: the page's time is the slowest of them, not their sum.
    // The lists by name and columns only (their upload reports can be megabytes).
    const [campaignLists, counts, problems, schedule, tests, current] = await Promise.all([
      campaigns.listSummaries(campaign.listIds.length ? campaign.listIds : [campaign.listId]),
      campaigns.counts(campaign.id),
      campaign.status === 'draft' ? campaigns.messages(campaign.id, { limit: 500, offset: 0, state: 'skipped' }) : null,
      scheduler.schedule(campaign),
      campaigns.tests(campaign.id),
      settings.get(),
    ]);
    const list = campaignLists.find((l) => l.id === campaign.listId) ?? null;
    const columns = unionOfColumns(campaignLists);
    res.render('campaigns/show', {
      title: campaign.name,
      campaign,
      list,
      campaignLists,
      severalLists: campaignLists.length > 1,
      translitSavedCost: costOf(campaign.translitSavedParts ?? 0, campaign.pricePerPart),
      columns,
      reportColumns: 7 + columns.length,
      live: campaignLive(campaign, counts),
      schedule,
      problems: problems ? problems.items.map(messageRow) : [],
      problemsMore: problems ? Math.max(0, problems.total - problems.items.length) : 0,
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
      campaigns.reportColumns(campaign),
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
      // "phone: …" is the API's wording; the page names its own fields.
      req.session.flash = error.message.replace(/^(phone|row): /, (_, f: string) => `${ru.report.pageFields[f]}: `);
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

  async function newForm(form: {
    listIds: number[];
    tags: string[];
    name: string;
    kind: CampaignKind;
    template: string;
    ignoreWindow: boolean;
    sims: string[];
    translit: boolean;
    q: string;
    templateName: string;
  }) {
    const all = await lists.all();
    const wantedTags = new Set(form.tags.map(tagKey));
    // The fields the template may use: every column of the chosen lists and of the tagged ones.
    // In the order the campaign would take them (CampaignsService.targetLists): lists as ticked, then tagged ones by id.
    const ticked = form.listIds.map((id) => all.find((l) => l.id === id)).filter((l) => l !== undefined);
    const tagged = all.filter((l) => !form.listIds.includes(l.id) && l.tags.some((t) => wantedTags.has(tagKey(t)))).sort((a, b) => a.id - b.id);
    const chosen = [...ticked, ...tagged];
    const allTags = new Map<string, string>();
    for (const l of all) for (const t of l.tags) if (!allTags.has(tagKey(t))) allTags.set(tagKey(t), t);
    const known = await sims.list([]);
    return {
      title: 'Новая рассылка',
      lists: all.map((l) => ({ id: l.id, name: l.name, imported: l.imported, tags: l.tags, columnsJson: JSON.stringify(l.columns), tagsJson: JSON.stringify(l.tags.map(tagKey)), checked: form.listIds.includes(l.id) })),
      tags: [...allTags.entries()].map(([key, text]) => ({ key, text, checked: wantedTags.has(key) })),
      columns: unionOfColumns(chosen),
      form: { ...form, isAdvertising: form.kind === 'advertising' },
      sims: known.map((s) => ({ imsi: s.imsi, device: s.device, checked: form.sims.includes(s.imsi) })),
      savedTemplates: await savedTemplates.all(),
      settings: await settings.get(),
    };
  }
  return router;
}
