import { Router, type Request, type Response } from 'express';
import { AppError, isAppError } from '../../errors.js';
import { ru } from '../../i18n/ru.js';
import type { RejectedRow } from '../../lists/import.js';
import { prepareImportInWorker } from '../../lists/prepare-import-in-worker.js';
import type { PreparedImport } from '../../lists/prepare-import.js';
import type { AppServices } from '../app.js';
import { actorOf } from '../middleware/auth.js';
import { verifyCsrf } from '../middleware/csrf.js';
import { field, formError } from '../page-forms.js';
import { parsePage } from '../params.js';
import { uploadFile } from '../upload.js';

const pageSize = 50;

interface StopListPageState {
  status?: number;
  addForm?: { phone: string; reason: string };
  addError?: { field: string | null; message: string };
  removeError?: { phone: string; reason: string; message: string };
  importError?: string;
  importColumns?: string[];
  importReport?: { fileName: string; added: number; already: number; rejected: RejectedRow[]; rejectedMore: number };
}

/** «Стоп-лист»: numbers that get nothing; search, add by hand, remove with a reason, import a file. */
export function stopListRoutes(services: AppServices): { upload: Router; pages: Router } {
  const { compliance } = services;

  async function render(req: Request, res: Response, state: StopListPageState = {}): Promise<void> {
    const phone = typeof req.query.phone === 'string' ? req.query.phone.slice(0, 50) : '';
    const page = parsePage(req.query.page);
    const { total, items } = await compliance.stopList({ phone: phone.replace(/\D/g, '') ? phone : undefined, limit: pageSize, offset: (page - 1) * pageSize });
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const query = (p: number) => `/stop-list?${new URLSearchParams({ ...(phone ? { phone } : {}), page: String(p) }).toString()}`;
    res.status(state.status ?? 200).render('compliance/stop-list', {
      title: 'Стоп-лист',
      search: phone,
      total,
      items: items.map((e) => ({ ...e, removing: state.removeError?.phone === e.phone ? state.removeError : null })),
      prev: page > 1 ? query(page - 1) : null,
      next: page < pages ? query(page + 1) : null,
      page,
      pages,
      ...state,
    });
  }

  const pages = Router();
  pages.get('/stop-list', async (req, res) => {
    await render(req, res);
  });

  pages.post('/stop-list', async (req, res) => {
    const form = { phone: field(req.body, 'phone'), reason: field(req.body, 'reason') };
    try {
      const { created } = await compliance.addToStopList(actorOf(res), form.phone, form.reason);
      req.session.flash = created ? ru.pages.stopListAdded : ru.pages.stopListAlready;
      res.redirect(303, '/stop-list');
    } catch (error) {
      if (!isAppError(error)) throw error;
      await render(req, res, { status: error.status, addForm: form, addError: formError(error) });
    }
  });

  pages.post('/stop-list/remove', async (req, res) => {
    const phone = field(req.body, 'phone');
    const reason = field(req.body, 'reason');
    try {
      await compliance.removeFromStopList(actorOf(res), phone, reason);
      req.session.flash = ru.pages.stopListRemoved;
      res.redirect(303, '/stop-list');
    } catch (error) {
      if (!isAppError(error)) throw error;
      await render(req, res, { status: error.status, removeError: { phone, reason, message: formError(error).message } });
    }
  });

  // multer parses the body first, so the CSRF token in the form can be checked: mounted before the app-wide check.
  const upload = Router();
  upload.post('/stop-list/import', uploadFile, verifyCsrf, async (req, res) => {
    const reason = field(req.body, 'reason').trim() || null;
    const phoneColumn = field(req.body, 'phoneColumn').trim() || undefined;
    try {
      if (!req.file || req.file.size === 0) throw new AppError('BAD_FILE', ru.pages.chooseFile);
      const fileName = req.file.originalname;
      let prepared = await prepareImportInWorker(req.file.buffer, fileName, phoneColumn);
      // A bare column of numbers with no header row: read it as if it had one.
      if (prepared.kind === 'bad-file' && prepared.code === 'no-header' && /\.csv$/i.test(fileName)) {
        prepared = await prepareImportInWorker(withHeader(req.file.buffer), fileName, undefined);
      }
      const ok = readyOrThrow(prepared);
      const phones = ok.result.contacts.map((c) => c.phone);
      const { added, already } = await compliance.importStopList(actorOf(res), phones, fileName, reason && reason.slice(0, 500));
      const rejected = ok.result.rejected;
      await render(req, res, {
        importReport: { fileName, added, already, rejected: rejected.slice(0, 200), rejectedMore: Math.max(0, rejected.length - 200) },
      });
    } catch (error) {
      if (!isAppError(error)) throw error;
      const columns = (error.details as { columns?: string[] } | undefined)?.columns;
      await render(req, res, { status: error.status, importError: error.message, importColumns: columns });
    }
  });

  return { upload, pages };
}

function readyOrThrow(prepared: PreparedImport): Extract<PreparedImport, { kind: 'ok' }> {
  if (prepared.kind === 'bad-file') throw new AppError('BAD_FILE', prepared.message);
  if (prepared.kind === 'no-phone-column') throw new AppError('VALIDATION', ru.listsService.noPhoneColumn(prepared.columns), { columns: prepared.columns });
  if (prepared.kind === 'unknown-phone-column') {
    throw new AppError('VALIDATION', ru.listsService.unknownPhoneColumn(prepared.column, prepared.columns), { columns: prepared.columns });
  }
  return prepared;
}

/** The same CSV with an ASCII header line in front (after a UTF-8 BOM, if any), so any encoding still reads. */
function withHeader(data: Buffer): Buffer {
  const bom = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  return Buffer.concat([data.subarray(0, bom), Buffer.from('phone\r\n'), data.subarray(bom)]);
}
