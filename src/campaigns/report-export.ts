import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { messageStateWords, ru } from '../i18n/ru.js';
import { localParts } from '../scheduling/zoned-time.js';
import type { CampaignsRepo, ReportMessage } from './campaigns-repo.js';
import { XlsxStream } from './xlsx-stream.js';

export type ExportFormat = 'csv' | 'xlsx';

/** Rows read per batch (keyset on id): memory holds one batch, whatever the campaign's size. */
const batchSize = 2000;

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

/**
 * One message as exported: every cell a string, neutralised; times as the office's wall clock
 * ("02.12.2026 14:05:09" in the settings' zone). `time` is a cached formatter (see zonedFormatter).
 */
export function exportRow(m: ReportMessage, columns: readonly string[], time: (d: Date | null) => string): string[] {
  return [
    m.rowNumber === null ? '' : String(m.rowNumber),
    m.phone,
    ...columns.map((c) => m.fields[c] ?? ''),
    m.text,
    m.modem ?? '',
    time(m.sentAt),
    time(m.finishedAt),
    messageStateWords[m.state] ?? m.state,
    m.error ?? '',
  ].map(neutralise);
}

/**
 * "dd.mm.yyyy hh:mm:ss" in `timeZone`. The zone's offset is looked up once per quarter hour of
 * time (offsets change only on such boundaries), not once per cell: Intl is the slow part.
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
async function* batches(repo: CampaignsRepo, campaignId: number): AsyncGenerator<ReportMessage[]> {
  let after = 0;
  for (;;) {
    const rows = await repo.reportAfter(campaignId, after, batchSize);
    if (!rows.length) return;
    yield rows;
    after = rows[rows.length - 1]!.id;
  }
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
  const time = zonedFormatter(source.timeZone);
  let count = 0;
  if (format === 'csv') {
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    await write(`\ufeff${csvLine(exportHeader(source.columns).map(neutralise))}`);
    for await (const rows of batches(source.repo, source.campaignId)) {
      await write(rows.map((m) => csvLine(exportRow(m, source.columns, time))).join(''));
      count += rows.length;
    }
    return count;
  }
  const xlsx = new XlsxStream(out);
  await xlsx.begin();
  await xlsx.row(exportHeader(source.columns).map(neutralise));
  for await (const rows of batches(source.repo, source.campaignId)) {
    for (const m of rows) await xlsx.row(exportRow(m, source.columns, time));
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
