import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { CampaignAction } from '../../campaigns/campaign.js';
import { AppError, isAppError } from '../../errors.js';
import { settingsPatchSchema } from '../../settings/settings.js';
import { messageStates } from '../../dispatcher/message-state.js';
import type { AppServices } from '../app.js';
import { actorOf, requireRole, requireToken } from '../middleware/auth.js';
import { rejectNul } from '../middleware/reject-nul.js';
import { issuesText } from '../../i18n/validation-messages.js';
import { allowedMethods } from '../method-not-allowed.js';
import { parseId } from '../params.js';
import { importRequestOf, uploadFile } from '../upload.js';
import { given } from '../form-values.js';
import { parseTags } from '../../lists/lists-service.js';
import type { ListRecord } from '../../lists/lists-repo.js';
import { campaignLive } from '../view-models/campaign-view.js';
import type { SimView } from '../../sims/sims-service.js';
import { actorLabel, type Actor } from '../../auth/actor.js';
import { auditTrail } from '../audit-trail.js';
import { sendReport } from '../report-download.js';
import { maskPhone } from '../../compliance/redact.js';
import type { ReportMessage } from '../../campaigns/campaigns-repo.js';
import type { InboundRecord, StopListEntry } from '../../compliance/compliance-repo.js';
import type { ConsentView } from '../../compliance/compliance-service.js';
import type { NotificationTemplate } from '../../notifications/notifications-repo.js';
import { SavedTemplates, type SavedTemplate } from '../../campaigns/saved-templates.js';

const listIdSchema = z.number({ error: 'listId: нужен номер списка' }).int('listId: целое число').positive('listId: номер больше 0').max(2_147_483_647, 'listId: нет такого списка');
/** Whom to send to: `listId` and/or `listIds` and/or `tags` (at least one; the service says so). */
const targetFields = {
  listId: listIdSchema.optional(),
  listIds: z.array(listIdSchema, { error: 'listIds: список номеров списков' }).max(100, 'listIds: не больше 100 списков').optional(),
  tags: z.array(z.string({ error: 'tags: список меток' }).min(1, 'tags: пустая метка').max(100, 'tags: метка не длиннее 100 символов'), { error: 'tags: список меток' }).max(100).optional(),
};
const templateField = z.string({ error: 'template: нужен текст' }).min(1, 'template: напишите текст').max(5000, 'template: не длиннее 5000 символов');
const kindField = z.enum(['service', 'advertising'], { error: 'kind: "service" или "advertising"' });
const translitField = z.boolean({ error: 'translit: true или false' }).optional();

const campaignBody = z.object({
  name: z.string({ error: 'name: нужна строка' }).min(1, 'name: укажите название').max(200, 'name: не длиннее 200 символов'),
  ...targetFields,
  template: templateField,
  kind: kindField,
  translit: translitField,
  ignoreWindow: z.boolean({ error: 'ignoreWindow: true или false' }).optional(),
  sims: z.array(z.string().regex(/^\d{6,15}$/, 'sims: IMSI — от 6 до 15 цифр'), { error: 'sims: список IMSI' }).max(256).optional(),
});

const previewBody = z.object({
  ...targetFields,
  template: templateField,
  kind: kindField.default('service'),
  translit: translitField,
  q: z.string({ error: 'q: строка поиска' }).max(100, 'q: не длиннее 100 символов').optional(),
  rows: z.number({ error: 'rows: число строк' }).int().min(1).max(100).default(10),
});

const savedTemplateJson = (t: SavedTemplate) => ({ id: t.id, name: t.name, text: t.text, createdBy: t.createdBy, createdAt: t.createdAt, updatedAt: t.updatedAt });

const listPatchBody = z
  .object({
    name: z.string({ error: 'name: нужна строка' }).max(200, 'name: не длиннее 200 символов').optional(),
    tags: z.union([z.array(z.string()).max(100), z.string().max(2000)], { error: 'tags: список меток или строка через запятую' }).optional(),
    headerRow: z.number({ error: 'headerRow: номер строки (целое число от 1)' }).int('headerRow: целое число').min(1, 'headerRow: от 1').max(1_000_000, 'headerRow: слишком большой номер').optional(),
    phoneColumn: z.string({ error: 'phoneColumn: название колонки' }).min(1, 'phoneColumn: укажите колонку').max(500).optional(),
    sheet: z.string({ error: 'sheet: название листа' }).min(1, 'sheet: укажите лист').max(500).optional(),
  })
  .strict();

/** What the API says about a list (the same for POST, PUT, PATCH and GET). */
function listJson(list: ListRecord) {
  return {
    id: list.id,
    name: list.name,
    sheet: list.sheet,
    sheets: list.sheets,
    headerRow: list.headerRow,
    columns: list.columns,
    phoneColumn: list.phoneColumn,
    tags: list.tags,
    version: list.version,
    imported: list.imported,
    duplicates: list.duplicates.length,
    rejected: list.rejected,
    notes: list.notes.map((n) => ({ row: n.row, kind: n.kind, value: n.value, text: n.text })),
    suppressed: list.suppressed,
    fileName: list.fileName,
    fileStored: list.hasFile,
    createdAt: list.createdAt,
  };
}

/** An API upload without its file. */
const apiMissingFile = 'Нужен файл в поле file (multipart/form-data).';

const messagesQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  state: z.enum(messageStates).optional(),
  /** A number's last digits or words of the recipient's fields (report-search.ts). */
  q: z.string().max(100).optional(),
  /** Keyset cursor: messages after this id (the previous answer's `next`); `page` is then ignored. */
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

function simJson(s: SimView) {
  return {
    imsi: s.imsi,
    device: s.modem?.device ?? null,
    ready: s.modem?.ready ?? false,
    enabled: s.enabled,
    dailyLimit: s.dailyLimit,
    monthlyLimit: s.monthlyLimit,
    sentToday: s.usedToday,
    sentThisMonth: s.usedThisMonth,
    minPauseSeconds: s.minPauseSeconds,
    maxPauseSeconds: s.maxPauseSeconds,
    pricePerPart: s.pricePerPart,
    consecutiveFailures: s.consecutiveFailures,
    outOfRotationUntil: s.resting ? s.outOfRotationUntil : null,
    lastFailure: s.lastFailure,
    /** Seconds per SMS part, learned from its last 50 sent messages; 3 (the assumption) below 5 of them. */
    sendSeconds: Math.round(s.sendPace.seconds * 100) / 100,
    /** How many of its recent messages the figure stands on (0–50). */
    sendSecondsSamples: s.sendPace.samples,
  };
}

/** What the audit keeps of a SIM change: the known fields only, never free text from the body. */
function simChanges(body: unknown): Record<string, unknown> {
  const fields = ['enabled', 'dailyLimit', 'monthlyLimit', 'minPauseSeconds', 'maxPauseSeconds', 'pricePerPart'];
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(fields.filter((f) => typeof b[f] === 'number' || typeof b[f] === 'boolean').map((f) => [f, b[f]]));
}

const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
});

function validation(error: z.ZodError): AppError {
  return new AppError('VALIDATION', issuesText(error).join('; '), {
    fields: error.issues.map((i) => i.path.join('.')),
  });
}

/**
 * The JSON API for scripts and other systems. Token auth only; errors are always
 * `{error: {code, message}}` with a 4xx status, never an HTML page or a 500 for bad input.
 */
export function apiRouter(services: AppServices): Router {
  const { lists, campaigns, gateway, settings, clock, tokens, log, sims, notifications, scheduler, compliance, erasure } = services;
  const trail = auditTrail(services);
  const savedTemplates = new SavedTemplates(services.knex, clock);
  const router = Router();
  router.use(requireToken(tokens, clock));
  // Every route needs at least a staff token; changes to settings and SIMs add requireRole('admin').
  router.use(requireRole('staff'));
  const admin = requireRole('admin');
  router.use(express.json({ limit: '1mb' }));
  router.use(rejectNul);

  router.get('/lists', async (req, res) => {
    const tag = typeof req.query.tag === 'string' && req.query.tag.trim() !== '' ? req.query.tag.slice(0, 100) : undefined;
    res.json({ items: (await lists.all({ tag })).map(listJson) });
  });

  router.post('/lists', uploadFile, async (req, res) => {
    const list = await lists.importFile(importRequestOf(req, res, apiMissingFile));
    await trail(actorOf(res), 'list.upload', `list:${list.id}`, { name: list.name, imported: list.imported, rejected: list.rejected.length });
    res.status(201).json(listJson(list));
  });

  // A new file into a kept list: a new version of its contacts (campaigns keep the old one).
  router.put('/lists/:id', uploadFile, async (req, res) => {
    const id = parseId(req.params.id);
    const list = await lists.reuploadFile(id, importRequestOf(req, res, apiMissingFile));
    await trail(actorOf(res), 'list.reupload', `list:${list.id}`, { version: list.version, imported: list.imported, rejected: list.rejected.length });
    res.json(listJson(list));
  });

  router.patch('/lists/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const parsed = listPatchBody.safeParse(req.body ?? {});
    if (!parsed.success) throw validation(parsed.error);
    const { name, tags, headerRow, phoneColumn, sheet } = parsed.data;
    const list = await lists.update(id, { name, tags: parseTags(tags), headerRow, phoneColumn, sheet });
    await trail(actorOf(res), 'list.update', `list:${list.id}`, { changed: Object.keys(parsed.data), version: list.version });
    res.json(listJson(list));
  });

  router.get('/lists/:id', async (req, res) => {
    res.json(listJson(await lists.get(parseId(req.params.id))));
  });

  router.post('/campaigns', async (req, res) => {
    const parsed = campaignBody.safeParse(req.body);
    if (!parsed.success) throw validation(parsed.error);
    const { campaign, summary } = await campaigns.create({ ...parsed.data, createdBy: actorLabel(actorOf(res)) });
    await trail(actorOf(res), 'campaign.create', `campaign:${campaign.id}`, { name: campaign.name, kind: campaign.kind, lists: campaign.listIds, translit: campaign.translit });
    res.status(201).json({
      id: campaign.id,
      status: campaign.status,
      listIds: campaign.listIds,
      translit: campaign.translit,
      recipients: summary.recipients,
      parts: summary.parts,
      cost: summary.cost,
      problems: summary.problems,
      excluded: summary.excluded,
      ...(summary.translit ? { translitSaving: summary.translit } : {}),
    });
  });

  /** Renders the text for every recipient without storing anything; `q` finds any recipient. */
  router.post('/campaigns/preview', async (req, res) => {
    const parsed = previewBody.safeParse(req.body);
    if (!parsed.success) throw validation(parsed.error);
    const { template, kind, translit, q, rows, ...target } = parsed.data;
    const preview = await campaigns.preview(target, template, { kind, translit, q, rowsShown: rows });
    res.json({
      lists: preview.lists.map((l) => ({ id: l.id, name: l.name })),
      columns: preview.columns,
      recipients: preview.summary.recipients,
      sendable: preview.summary.sendable,
      duplicatesAcrossLists: preview.duplicatesAcrossLists,
      warnings: preview.warnings,
      parts: preview.summary.parts,
      cost: preview.summary.cost,
      problems: preview.summary.problems,
      excluded: preview.summary.excluded,
      ...(preview.summary.translit ? { translitSaving: preview.summary.translit } : {}),
      matches: preview.matches,
      rows: preview.rows.map((m) => ({
        row: m.rowNumber,
        ...(m.listId === undefined ? {} : { listId: m.listId }),
        phone: m.phone,
        fields: m.fields,
        text: m.text,
        characters: m.characters,
        encoding: m.encoding,
        parts: m.parts,
        problem: m.problem,
      })),
    });
  });

  router.get('/templates', async (_req, res) => {
    res.json({ items: (await savedTemplates.all()).map(savedTemplateJson) });
  });

  router.get('/templates/:id', async (req, res) => {
    res.json(savedTemplateJson(await savedTemplates.get(parseId(req.params.id))));
  });

  router.post('/templates', async (req, res) => {
    const body = (req.body ?? {}) as { name?: unknown; text?: unknown };
    const { template, created } = await savedTemplates.save(body, actorLabel(actorOf(res)));
    await trail(actorOf(res), 'template.save', `template:${template.id}`, { name: template.name, created });
    res.status(created ? 201 : 200).json(savedTemplateJson(template));
  });

  router.get('/campaigns/:id', async (req, res) => {
    const campaign = await campaigns.get(parseId(req.params.id));
    const live = campaignLive(campaign, await campaigns.counts(campaign.id));
    const { waiting, forecast } = await scheduler.schedule(campaign);
    res.json({
      id: campaign.id,
      name: campaign.name,
      kind: campaign.kind,
      status: campaign.status,
      ignoreWindow: campaign.ignoreWindow,
      sims: campaign.sims,
      listIds: campaign.listIds,
      translit: campaign.translit,
      translitSavedParts: campaign.translitSavedParts,
      counts: live.counts,
      parts: live.parts,
      cost: live.cost,
      costSoFar: live.costSoFar,
      waiting,
      forecast,
    });
  });

  for (const action of ['start', 'pause', 'resume', 'cancel'] as CampaignAction[]) {
    router.post(`/campaigns/:id/${action}`, async (req, res) => {
      const campaign = await campaigns.act(parseId(req.params.id), action);
      await trail(actorOf(res), `campaign.${action}`, `campaign:${campaign.id}`);
      res.json({ id: campaign.id, status: campaign.status });
    });
  }

  const messageJson = (m: ReportMessage) => ({
    id: m.id, row: m.rowNumber, phone: m.phone, fields: m.fields, text: m.text, parts: m.parts, state: m.state, modem: m.modem,
    sentAt: m.sentAt, finishedAt: m.finishedAt, error: m.error,
  });

  router.get('/campaigns/:id/messages', async (req, res) => {
    const campaign = await campaigns.get(parseId(req.params.id));
    const q = messagesQuery.safeParse(req.query);
    if (!q.success) throw validation(q.error);
    const { page, pageSize, state, after } = q.data;
    const search = q.data.q?.trim() || undefined;
    if (after !== undefined) {
      if (search) throw new AppError('VALIDATION', 'after: курсор работает без поиска q; с поиском листайте по page.');
      const items = await campaigns.reportAfter(campaign.id, after, pageSize, state);
      const next = items.length === pageSize ? items[items.length - 1]!.id : null;
      res.json({ after, pageSize, next, items: items.map(messageJson) });
      return;
    }
    // A search counts its own matches; without one the totals come from the counts.
    const counts = search ? null : await campaigns.counts(campaign.id);
    const result = await campaigns.report(campaign.id, { page, pageSize, state, search }, counts);
    const last = result.items[result.items.length - 1];
    res.json({
      page: result.page,
      pageSize,
      total: result.total,
      pages: Math.max(1, Math.ceil(result.total / pageSize)),
      next: !search && last && result.page * pageSize < result.total ? last.id : null,
      items: result.items.map(messageJson),
    });
  });

  router.post('/campaigns/:id/test', async (req, res) => {
    const body = (req.body ?? {}) as { phone?: unknown; row?: unknown };
    const sent = await campaigns.sendTest(parseId(req.params.id), { phone: body.phone, row: body.row });
    await trail(actorOf(res), 'campaign.test', `campaign:${parseId(req.params.id)}`, { phone: maskPhone(sent.phone), row: sent.rowNumber, state: sent.state });
    res.status(201).json({ id: sent.id, state: sent.state, ...(sent.reason ? { reason: sent.reason } : {}) });
  });

  router.get('/campaigns/:id/export', async (req, res) => {
    await sendReport(services, req, res, actorOf(res));
  });

  router.get('/modems', async (_req, res) => {
    if (!gateway.isConnected()) throw new AppError('CONFLICT', 'Нет связи с Asterisk (AMI).');
    res.json(await gateway.listModems());
  });

  router.get('/sims', async (_req, res) => {
    const { modems } = await sims.modems();
    res.json((await sims.list(modems ?? [])).map(simJson));
  });

  router.patch('/sims/:imsi', admin, async (req, res) => {
    const { modems } = await sims.modems();
    await sims.update(String(req.params.imsi), req.body ?? {});
    await trail(actorOf(res), 'sim.update', `sim:${String(req.params.imsi).slice(0, 20)}`, simChanges(req.body));
    const updated = (await sims.list(modems ?? [])).find((s) => s.imsi === req.params.imsi);
    res.json(updated ? simJson(updated) : null);
  });

  router.post('/notifications', async (req, res) => {
    const body = (req.body ?? {}) as { phone?: unknown; text?: unknown; template?: unknown; fields?: unknown };
    const actor = actorOf(res);
    const key = req.get('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw new AppError('VALIDATION', 'Idempotency-Key: от 1 до 200 видимых символов ASCII (например UUID).');
    }
    const { notification, skipped, repeated } = await notifications.send(
      { phone: body.phone, text: body.text, template: body.template, fields: body.fields },
      { source: 'api', idempotency: key !== undefined && actor.id !== null ? { tokenId: actor.id, key } : undefined },
    );
    // Guarded out (stop-list, repeat, window) is an answer, not an error: 200 with state "skipped"
    // and the reason. A repeated Idempotency-Key answers 200 with the first request's notification.
    res.status(skipped || repeated ? 200 : 201).json(notification);
  });

  router.get('/notifications/:id', async (req, res) => {
    res.json(await notifications.get(parseId(req.params.id)));
  });

  const templateJson = (t: NotificationTemplate) => ({
    name: t.name, text: t.text, repeatGuardMinutes: t.repeatGuardMinutes, keepWindow: t.keepWindow, updatedAt: t.updatedAt, updatedBy: t.updatedBy,
  });

  router.get('/notification-templates', async (_req, res) => {
    res.json({ items: (await notifications.templates()).map(templateJson) });
  });

  router.get('/notification-templates/:name', async (req, res) => {
    res.json(templateJson(await notifications.template(String(req.params.name))));
  });

  router.put('/notification-templates/:name', admin, async (req, res) => {
    const body = (req.body ?? {}) as { text?: unknown; repeatGuardMinutes?: unknown; keepWindow?: unknown };
    const { template, created } = await notifications.saveTemplate(actorOf(res), String(req.params.name), body);
    res.status(created ? 201 : 200).json(templateJson(template));
  });

  // ---------------------------------------------------------------- compliance (38-FZ, 152-FZ)

  const stopListJson = (e: StopListEntry) => ({ phone: e.phone, reason: e.reason, source: e.source, createdAt: e.createdAt });

  router.get('/stop-list', async (req, res) => {
    const phone = typeof req.query.phone === 'string' ? req.query.phone : undefined;
    if (phone !== undefined) {
      const entry = await compliance.stopListEntry(phone);
      res.json({ items: entry ? [stopListJson(entry)] : [] });
      return;
    }
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw validation(q.error);
    const { total, items } = await compliance.stopList({ limit: q.data.pageSize, offset: (q.data.page - 1) * q.data.pageSize });
    res.json({ page: q.data.page, pageSize: q.data.pageSize, total, items: items.map(stopListJson) });
  });

  router.post('/stop-list', async (req, res) => {
    const body = (req.body ?? {}) as { phone?: unknown; reason?: unknown };
    const { entry, created } = await compliance.addToStopList(actorOf(res), body.phone, body.reason);
    res.status(created ? 201 : 200).json(stopListJson(entry));
  });

  router.delete('/stop-list/:phone', async (req, res) => {
    const body = (req.body ?? {}) as { reason?: unknown };
    const reason = body.reason ?? req.query.reason ?? `удалено через API (токен «${res.locals.tokenName}»)`;
    await compliance.removeFromStopList(actorOf(res), req.params.phone, reason);
    res.status(204).end();
  });

  const consentJson = (c: ConsentView) => ({
    phone: c.phone,
    consented: c.consented,
    since: c.since,
    history: c.history.map((h) => ({ action: h.action, at: h.at, source: h.source, document: h.document, recordedBy: h.recordedBy, recordedAt: h.recordedAt })),
  });

  router.post('/consents', async (req, res) => {
    const body = (req.body ?? {}) as { phone?: unknown; source?: unknown; document?: unknown; givenAt?: unknown };
    res.status(201).json(consentJson(await compliance.giveConsent(actorOf(res), body)));
  });

  router.get('/consents/:phone', async (req, res) => {
    res.json(consentJson(await compliance.consentOf(req.params.phone)));
  });

  router.delete('/consents/:phone', async (req, res) => {
    const body = (req.body ?? {}) as { source?: unknown; document?: unknown };
    res.json(consentJson(await compliance.withdrawConsent(actorOf(res), req.params.phone, body.source, body.document)));
  });

  const inboxJson = (m: InboundRecord) => ({
    id: m.id, from: m.from, device: m.device, imsi: m.imsi, receivedAt: m.receivedAt, text: m.text,
    optOut: m.optOut, handled: m.handledAt !== null,
  });

  router.get('/inbox', async (req, res) => {
    const flag = (v: unknown) => v === '1' || v === 'true';
    const items = await compliance.inbox({ unhandled: flag(req.query.unhandled), optOut: flag(req.query.optOut), limit: 500 });
    res.json({ items: items.map(inboxJson) });
  });

  router.patch('/inbox/:id', async (req, res) => {
    const body = (req.body ?? {}) as { handled?: unknown };
    if (typeof body.handled !== 'boolean') throw new AppError('VALIDATION', 'handled: true или false');
    res.json(inboxJson(await compliance.setHandled(actorOf(res), parseId(req.params.id), body.handled)));
  });

  // 152-FZ: forget a person. Admin tokens only; the register never shows the number.
  router.post('/erasures', admin, async (req, res) => {
    const body = (req.body ?? {}) as { phone?: unknown };
    const done = await erasure.erase(actorOf(res), body.phone);
    res.status(201).json({ id: done.id, phone: done.phone, requestedAt: done.requestedAt, erasedAt: done.erasedAt, counts: done.counts });
  });

  router.get('/erasures', admin, async (_req, res) => {
    const items = await erasure.register(1000);
    res.json({ items: items.map((e) => ({ id: e.id, requestedAt: e.requestedAt, erasedAt: e.erasedAt, requestedBy: e.requestedBy, counts: e.counts })) });
  });

  router.get('/audit', admin, async (req, res) => {
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 100) : undefined);
    const items = await services.audit.list({ action: str(req.query.action), actor: str(req.query.actor), limit: 500 });
    res.json({ items: items.map((e) => ({ at: e.at, actor: e.actor, address: e.address, action: e.action, target: e.target, details: e.details })) });
  });

  router.get('/settings', async (_req, res) => {
    res.json(await settings.get());
  });

  router.patch('/settings', admin, async (req, res) => {
    const parsed = settingsPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw validation(parsed.error);
    const updated = await settings.update(parsed.data, clock.now());
    await trail(actorOf(res), 'settings.update', 'settings', { changed: Object.keys(parsed.data) });
    res.json(updated);
  });

  router.use((req: Request, res: Response) => {
    const allow = allowedMethods(router, req.path);
    if (allow.length > 0) {
      res.setHeader('Allow', allow.join(', '));
      throw new AppError('METHOD_NOT_ALLOWED', `Этот адрес API принимает только ${allow.join(', ')}.`);
    }
    throw new AppError('NOT_FOUND', 'Нет такого адреса API.');
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isAppError(error)) {
      res.status(error.status).json({ error: { code: error.code, message: error.message } });
      return;
    }
    const status = (error as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      // body-parser: malformed JSON, too large, wrong charset
      res.status(status).json({ error: { code: status === 413 ? 'TOO_LARGE' : 'BAD_REQUEST', message: 'Тело запроса не разобрано: ожидается JSON в UTF-8.' } });
      return;
    }
    // Path only: a query string can carry a search (a name, a phone: personal data, 152-FZ).
    log.error({ err: error, url: req.originalUrl.split('?', 1)[0] }, 'api request failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Внутренняя ошибка. Подробности в журнале службы.' } });
  });
  return router;
}
