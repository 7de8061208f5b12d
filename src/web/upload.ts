import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { AppError } from '../errors.js';

export const maxUploadBytes = 20 * 1024 * 1024;

const single = multer({ storage: multer.memoryStorage(), limits: { fileSize: maxUploadBytes, files: 1, fields: 20 } }).single('file');

/** One uploaded file in memory (field `file`); multer's errors become clear Russian ones. */
export function uploadFile(req: Request, res: Response, next: NextFunction): void {
  single(req, res, (error: unknown) => {
    if (!error) {
      // Browsers send file names in UTF-8 but multer decodes them as latin1.
      if (req.file) req.file.originalname = Buffer.from(req.file.originalname, 'latin1').toString('utf8');
      return next();
    }
    if (error instanceof multer.MulterError) {
      if (error.code === 'LIMIT_FILE_SIZE') return next(new AppError('TOO_LARGE', 'Файл больше 20 МБ. Разделите список на несколько файлов.'));
      return next(new AppError('BAD_REQUEST', 'Файл не принят: загрузите один файл в поле «Файл».'));
    }
    next(error);
  });
}
