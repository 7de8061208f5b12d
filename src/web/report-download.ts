import type { Request, Response } from 'express';
import type { Actor } from '../auth/actor.js';
import { exportFileName, writeReport, type ExportFormat } from '../campaigns/report-export.js';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { AppServices } from './app.js';
import { auditTrail } from './audit-trail.js';
import { parseId } from './params.js';

const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function parseExportFormat(raw: unknown): ExportFormat {
  if (raw === undefined || raw === 'xlsx') return 'xlsx';
  if (raw === 'csv') return 'csv';
  throw new AppError('VALIDATION', ru.report.badFormat, { field: 'format' });
}

/**
 * `GET …/campaigns/{id}/export?format=csv|xlsx` for the page and the API: streams the whole report
 * as it reads it, then audits who took it (`campaign.exported`). The audit row comes after the last
 * byte: a download cut off half way is not recorded as taken.
 */
export async function sendReport(services: Pick<AppServices, 'campaigns' | 'settings' | 'audit' | 'knex' | 'clock' | 'log'>, req: Request, res: Response, actor: Actor): Promise<void> {
  const format = parseExportFormat(req.query.format);
  const campaign = await services.campaigns.get(parseId(req.params.id));
  const columns = await services.campaigns.reportColumns(campaign);
  const { timezone } = await services.settings.get();
  const name = exportFileName(campaign, format);
  res.status(200);
  res.setHeader('Content-Type', contentTypes[format]);
  res.setHeader('Content-Disposition', `attachment; filename="report-${campaign.id}.${format}"; filename*=UTF-8''${encodeURIComponent(name)}`);
  res.setHeader('Cache-Control', 'no-store');
  let rows: number;
  try {
    rows = await writeReport(res, format, { repo: services.campaigns.reportSource, campaignId: campaign.id, columns, timeZone: timezone });
  } catch (error) {
    // Headers are gone: the only honest signal left is a cut connection (the browser says "failed").
    services.log.error({ err: error, campaignId: campaign.id }, 'report export failed');
    res.destroy();
    return;
  }
  res.end();
  await auditTrail(services)(actor, 'campaign.exported', `campaign:${campaign.id}`, { format, rows });
}
