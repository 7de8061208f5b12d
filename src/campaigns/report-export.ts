import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { messageStateWords, ru } from '../i18n/ru.js';
import { localParts } from '../scheduling/zoned-time.js';
import type { CampaignsRepo, ExportRecord } from './campaigns-repo.js';
import { XlsxStream } from './xlsx-stream.js';

export type ExportFormat = 'csv' | 'xlsx';

/** Rows per FETCH of the export's cursor: memory holds one batch, whatever the campaign's size. */
const batchSize = 5000;

/**
 * A cell Excel (or LibreOffice) would read as a formula — `=`, `+`, `-`, `@`, tab, CR at the start —
 * gets a leading `'`: it shows as the text it is and never runs (OWASP "CSV injection"). Applied to
 * .xlsx too, where cells are strings anyway, so both files read the same. Pure.
 */
export function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One CSV line for Russian Excel: `;` between cells, quotes where needed, CRLF at the end. Pure. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map((c) => (/[;"\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(';')}\r\n`;
}

/** The header row: row, number, the list's fields, text, SIM, times, state, reason. Pure. */
export function exportHeader(columns: readonly string[]): string[] {
  const w = ru.report.exportColumns;
  return [w.row, w.phone, ...columns, w.text, w.sim, w.sentAt, w.finishedAt, w.state, w.reason];
}


/** One message as exported: every cell a string, neutralised; the state as staff read it. Pure. */
export function exportRow(m: ExportRecord): string[] {
  return [m.row, m.phone, ...m.fields, m.text, m.sim, m.sentAt, m.finishedAt, messageStateWords[m.state] ?? m.state, m.error].map(neutralise);
}

/**
 * "dd.mm.yyyy hh:mm:ss" in `timeZone` (the export's times come formatted from SQL in the same
 * form; this is for JS-side callers and the tests).
 */
export function zonedFormatter(timeZone: string): (d: Date | null) => string {
  const offsets = new Map<number, number>();
  const pad = (n: number) => String(n).padStart(2, '0');
  return (d) => {
    if (!d) return '';
    const ms = d.getTime();
    const bucket = Math.floor(ms / 900_000);
    let offset = offsets.get(bucket);
    if (offset === undefined) {
      const p = localParts(new Date(bucket * 900_000), timeZone);
      offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - bucket * 900_000;
      if (offsets.size > 10_000) offsets.clear();
      offsets.set(bucket, offset);
    }
    const l = new Date(ms + offset);
    return `${pad(l.getUTCDate())}.${pad(l.getUTCMonth() + 1)}.${l.getUTCFullYear()} ${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}`;
  };
}

/** Every message of the campaign in id order, a batch at a time. */
function batches(source: { repo: CampaignsRepo; campaignId: number; columns: readonly string[]; timeZone: string }): AsyncGenerator<ExportRecord[]> {
  return source.repo.exportRows(source.campaignId, source.columns, source.timeZone, batchSize);
}

/**
 * Streams the campaign's report into `out` (an HTTP response) as it reads it. Returns how many
 * messages went out. CSV: UTF-8 with BOM (Excel then reads Cyrillic right), `;`, CRLF.
 */
export async function writeReport(
  out: Writable,
  format: ExportFormat,
  source: { repo: CampaignsRepo; campaignId: number; columns: readonly string[]; timeZone: string },
): Promise<number> {
  let count = 0;
  if (format === 'csv') {
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    await write(`\ufeff${csvLine(exportHeader(source.columns).map(neutralise))}`);
    for await (const rows of batches(source)) {
      await write(rows.map((m) => csvLine(exportRow(m))).join(''));
      count += rows.length;
    }
    return count;
  }
  const xlsx = new XlsxStream(out);
  await xlsx.begin();
  await xlsx.row(exportHeader(source.columns).map(neutralise));
  for await (const rows of batches(source)) {
    for (const m of rows) await xlsx.row(exportRow(m));
    count += rows.length;
  }
  await xlsx.end();
  return count;
}

/** The download's file name: the campaign's name, safe for any file system, and its id. */
export function exportFileName(campaign: { id: number; name: string }, format: ExportFormat): string {
  const base = campaign.name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim().slice(0, 80) || 'рассылка';
  return `${base} (отчёт ${campaign.id}).${format}`;
}
