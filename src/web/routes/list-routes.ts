import { Router, type Request, type Response } from 'express';
import { AppError, isAppError } from '../../errors.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { actorLabel } from '../../auth/actor.js';
import { auditTrail } from '../audit-trail.js';

import { verifyCsrf } from '../middleware/csrf.js';
import { importRequestOf, uploadFile } from '../upload.js';
import { parseId } from '../params.js';
import { parseHeaderRow, parseTags } from '../../lists/lists-service.js';
import type { ListRecord } from '../../lists/lists-repo.js';
import { ru } from '../../i18n/ru.js';
import { warmImportWorker } from '../../lists/prepare-import-in-worker.js';

/** Rows of the preview per page. */
const PREVIEW_PAGE = 50;
/** Rejected rows and notes shown on the page (the API has them all). */
const REPORT_ROWS = 500;

export function listRoutes(services: AppServices): Router {
  const { lists } = services;
  const trail = auditTrail(services);
  const router = Router();

  const renderIndex = async (res: Response, tag: string | undefined, extra: Record<string, unknown> = {}) => {
    res.render('lists/index', { title: 'Списки', lists: await lists.all({ tag }), tags: await lists.tags(), tag, ...extra });
  };

  router.get('/lists', async (req, res) => {
    warmImportWorker(); // staff here are about to upload: the parser is loaded while they pick the file
    const tag = typeof req.query.tag === 'string' && req.query.tag.trim() !== '' ? req.query.tag.slice(0, 100) : undefined;
    await renderIndex(res, tag);
  });

  // multer parses the body first, so the CSRF token in the form can be checked.
  router.post('/lists', uploadFile, verifyCsrf, async (req, res) => {
    const form = {
      name: String(req.body?.name ?? ''),
      tags: String(req.body?.tags ?? ''),
      sheet: String(req.body?.sheet ?? ''),
      headerRow: String(req.body?.headerRow ?? ''),
      phoneColumn: String(req.body?.phoneColumn ?? ''),
      consentColumn: String(req.body?.consentColumn ?? ''),
      consentSource: String(req.body?.consentSource ?? ''),
    };
    try {
      const list = await lists.importFile(importRequestOf(req, res, 'Выберите файл со списком (.xlsx, .xls, .ods, .csv или .txt).'));
      await trail(actorOf(res), 'list.upload', `list:${list.id}`, { name: list.name, imported: list.imported, rejected: list.rejected.length });
      res.redirect(303, `/lists/${list.id}`);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const details = error.details as { columns?: string[]; sheets?: string[] } | undefined;
      res.status(error.status);
      await renderIndex(res, undefined, { error: error.message, form, columns: details?.columns, sheets: details?.sheets?.length ? details.sheets : undefined });
    }
  });

  router.get('/lists/:id', async (req, res) => {
    const list = await lists.get(parseId(req.params.id));
    if (list.hasFile) warmImportWorker(); // a re-read with another sheet, header row or column is likely
    await renderShow(res, list, Number(req.query.page));
  });

  const renderShow = async (res: Response, list: ListRecord, page: number, extra: Record<string, unknown> = {}) => {
    const pages = Math.max(1, Math.ceil(list.imported / PREVIEW_PAGE));
    const current = Number.isInteger(page) && page >= 1 ? Math.min(page, pages) : 1;
    const sample = await lists.contacts(list.id, PREVIEW_PAGE, (current - 1) * PREVIEW_PAGE);
    res.render('lists/show', {
      title: list.name,
      list,
      sample: sample.map((c) => ({ ...c, cells: list.columns.map((col) => c.fields[col] ?? '') })),
      preview: {
        page: current,
        pages,
        from: (current - 1) * PREVIEW_PAGE + 1,
        to: (current - 1) * PREVIEW_PAGE + sample.length,
        prev: current > 1 ? current - 1 : null,
        next: current < pages ? current + 1 : null,
      },
      tagsText: list.tags.join(', '),
      sheetChoice: list.sheets.length > 1,
      rejectedShown: list.rejected.slice(0, REPORT_ROWS),
      rejectedMore: Math.max(0, list.rejected.length - REPORT_ROWS),
      notesShown: list.notes.slice(0, REPORT_ROWS),
      notesMore: Math.max(0, list.notes.length - REPORT_ROWS),
      ...extra,
    });
  };

  /** A change on the list page; a mistake shows the page again with the message at the form. */
  const change = (work: (req: Request, res: Response, id: number) => Promise<ListRecord>, formName: 'reread' | 'labels' | 'upload') =>
    async (req: Request, res: Response) => {
      const id = parseId(req.params.id);
      try {
        const list = await work(req, res, id);
        req.session.flash = formName === 'labels' ? ru.listFiles.saved : ru.listFiles.reread(list.imported, list.version);
        res.redirect(303, `/lists/${list.id}`);
      } catch (error) {
        if (!isAppError(error) || error.code === 'NOT_FOUND') throw error;
        res.status(error.status);
        await renderShow(res, await lists.get(id), 1, { errors: { [formName]: error.message } });
      }
    };

  // Another sheet, header row or phone column: read the stored file again (no upload needed).
  router.post(
    '/lists/:id/reread',
    verifyCsrf,
    change(async (req, res, id) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
      const list = await lists.update(id, { sheet: text(b.sheet), headerRow: parseHeaderRow(b.headerRow), phoneColumn: text(b.phoneColumn) });
      await trail(actorOf(res), 'list.update', `list:${list.id}`, { reread: true, version: list.version });
      return list;
    }, 'reread'),
  );

  router.post(
    '/lists/:id/labels',
    verifyCsrf,
    change(async (req, res, id) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const list = await lists.update(id, { name: typeof b.name === 'string' ? b.name : undefined, tags: parseTags(typeof b.tags === 'string' ? b.tags : '') });
      await trail(actorOf(res), 'list.update', `list:${list.id}`, { changed: ['name', 'tags'] });
      return list;
    }, 'labels'),
  );

  router.post(
    '/lists/:id/upload',
    uploadFile,
    verifyCsrf,
    change(async (req, res, id) => {
      if (!req.file || req.file.size === 0) throw new AppError('BAD_FILE', 'Выберите файл со списком (.xlsx, .xls, .ods, .csv или .txt).');
      const list = await lists.reuploadFile(id, { data: req.file.buffer, fileName: req.file.originalname, createdBy: actorLabel(actorOf(res)) });
      await trail(actorOf(res), 'list.reupload', `list:${list.id}`, { version: list.version, imported: list.imported, rejected: list.rejected.length });
      return list;
    }, 'upload'),
  );
  return router;
}
