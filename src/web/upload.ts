import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { actorLabel } from '../auth/actor.js';
import { AppError } from '../errors.js';
import { parseHeaderRow, parseTags, type ImportRequest } from '../lists/lists-service.js';
import { given } from './form-values.js';
import { actorOf } from './middleware/auth.js';
import { rejectNul } from './middleware/reject-nul.js';
import { MAX_IMPORT_MB } from '../settings/settings.js';

/** The hard cap of an upload in memory; the administrator's smaller limit is checked by the service. */
export const maxUploadBytes = MAX_IMPORT_MB * 1024 * 1024;

// Browsers send file names as raw UTF-8 in `filename=`; RFC 5987 `filename*=` names are decoded by busboy itself.
const single = multer({ storage: multer.memoryStorage(), limits: { fileSize: maxUploadBytes, files: 1, fields: 20 }, defParamCharset: 'utf8' }).single('file');

/** One uploaded file in memory (field `file`); multer's errors become clear Russian ones. */
export function uploadFile(req: Request, res: Response, next: NextFunction): void {
  single(req, res, (error: unknown) => {
    if (!error) {
      // Control characters never belong in a file name that is shown on pages and stored.
      if (req.file) req.file.originalname = req.file.originalname.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255) || 'файл';
      return rejectNul(req, res, next);
    }
    if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') {
      return next(new AppError('TOO_LARGE', `Файл больше ${MAX_IMPORT_MB} МБ. Разделите список на несколько файлов.`));
    }
    // Any other multipart problem (no boundary, cut-off body, extra parts) is the request's fault.
    next(new AppError('BAD_REQUEST', 'Файл не принят: загрузите один файл в поле «Файл» (форма multipart/form-data).'));
  });
}

/** The optional fields of an upload (multipart text fields): name, sheet, headerRow, phoneColumn, tags. */
export function uploadFields(body: unknown): { name?: string; sheet?: string; headerRow?: number; phoneColumn?: string; tags?: string[] } {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  return given({ name: text(b.name), sheet: text(b.sheet), headerRow: parseHeaderRow(b.headerRow), phoneColumn: text(b.phoneColumn), tags: parseTags(text(b.tags)) });
}

/** The optional consent column of an upload form (`consentColumn`, `consentSource`). */
export function consentOfForm(body: unknown): { column: string; source: string } | undefined {
  const b = (body ?? {}) as { consentColumn?: unknown; consentSource?: unknown };
  if (typeof b.consentColumn !== 'string' || b.consentColumn.trim() === '') return undefined;
  return { column: b.consentColumn, source: typeof b.consentSource === 'string' ? b.consentSource : '' };
}

/**
 * The import an upload (page or API) asks for: its file, the choices sent beside it, and who asks.
 * `missingFile` says, in the caller's words, what to do when no file came.
 */
export function importRequestOf(req: Request, res: Response, missingFile: string): ImportRequest {
  if (!req.file || req.file.size === 0) throw new AppError('BAD_FILE', missingFile);
  return {
    data: req.file.buffer,
    fileName: req.file.originalname,
    ...uploadFields(req.body),
    createdBy: actorLabel(actorOf(res)),
    consent: consentOfForm(req.body),
  };
}
