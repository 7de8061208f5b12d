import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { Clock } from '../clock.js';
import { ComplianceRepo } from '../compliance/compliance-repo.js';
import { readConsentColumn } from '../compliance/consent-import.js';
import { dropSuppressed, type SuppressedAmong } from './drop-suppressed.js';
import { streamImportInWorker } from './prepare-import-in-worker.js';
import type { PrepareOptions, PreparedImport } from './prepare-import.js';
import { DEFAULT_MAX_ROWS } from './sheet.js';
import { tagKey, type ContactChunks, type ListContents, type ListRecord, type ListsRepo, type NewContact, type StoredFile } from './lists-repo.js';

/** How to read a file; anything absent is decided from the file. */
export interface ReadChoice {
  /** Column holding the phone numbers; detected when absent. */
  phoneColumn?: string | undefined;
  /** Sheet of a workbook; the one with phone numbers is proposed when absent. */
  sheet?: string | undefined;
  /** Spreadsheet row number (1-based) of the header row; found when absent. */
  headerRow?: number | undefined;
}

export interface ImportRequest extends ReadChoice {
  data: Buffer;
  fileName: string;
  name?: string | undefined;
  tags?: string[] | undefined;
  createdBy: string | null;
  /** A column saying whether (and when) each person consented to advertising, and where such consents come from. */
  consent?: { column: string; source: string } | undefined;
}

/** A change of a kept list: labels, or another reading of its stored file. Any subset. */
export interface ListPatch extends ReadChoice {
  name?: string | undefined;
  tags?: string[] | undefined;
}

/** The administrator's limits of one upload (settings `importMaxMb`, `importMaxRows`). */
export type ImportLimits = () => Promise<{ maxMb: number; maxRows: number }>;

/** Names are for people to tell lists apart; a page of text is a mistake (or an attack on the pages). */
export const MAX_LIST_NAME = 200;
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;

/**
 * Tags as staff type them: a comma-separated string (forms, multipart) or an array (JSON); trimmed,
 * empty ones dropped, repeated ones (case- and ё-insensitive) kept once. Too many or too long: a 422.
 */
export function parseTags(input: unknown): string[] | undefined {
  if (input === undefined || input === null) return undefined;
  const raw = typeof input === 'string' ? input.split(',') : Array.isArray(input) && input.every((t) => typeof t === 'string') ? (input as string[]) : null;
  if (raw === null) throw new AppError('VALIDATION', ru.listFiles.tagsInvalid, { field: 'tags' });
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const t of raw) {
    const tag = t.replace(/\s+/g, ' ').trim();
    if (tag === '' || seen.has(tagKey(tag))) continue;
    if (tag.length > MAX_TAG_LENGTH || /[\u0000-\u001f\u007f]/.test(tag)) throw new AppError('VALIDATION', ru.listFiles.tagsInvalid, { field: 'tags' });
    seen.add(tagKey(tag));
    tags.push(tag);
  }
  if (tags.length > MAX_TAGS) throw new AppError('VALIDATION', ru.listFiles.tagsInvalid, { field: 'tags' });
  return tags;
}

/** A 1-based row number from a form or JSON (`"3"` or `3`); empty means "find it". */
export function parseHeaderRow(input: unknown): number | undefined {
  if (input === undefined || input === null || input === '') return undefined;
  const n = typeof input === 'number' ? input : typeof input === 'string' && /^\s*\d{1,7}\s*$/.test(input) ? Number(input) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new AppError('VALIDATION', ru.listFiles.headerRowInvalid, { field: 'headerRow' });
  return n;
}

type ReadPrepared = Extract<PreparedImport, { kind: 'ok' }>;

/** What a whole file made of a list (erased numbers dropped). */
interface Read {
  contents: ListContents;
  contacts: NewContact[];
  keepFile: boolean;
}

/** An upload being read: its contacts as the worker normalises them, then what the whole file made of the list. */
interface Reading {
  contacts: ContactChunks;
  /** Once the last chunk was taken, in the transaction that stored them. */
  finish(trx: Knex.Transaction, target: { listId: number; version: number }): Promise<Read>;
}

/** The parse's answer when it is a list; otherwise the AppError staff see (nothing was stored). */
function listable(prepared: PreparedImport): ReadPrepared {
  if (prepared.kind === 'bad-file') {
    const field = prepared.code === 'unknown-sheet' || prepared.code === 'empty-sheet' ? 'sheet' : prepared.code === 'bad-header-row' ? 'headerRow' : undefined;
    throw new AppError(field ? 'VALIDATION' : 'BAD_FILE', prepared.message, field ? { field } : undefined);
  }
  const choiceDetails = { sheets: prepared.sheets, sheet: prepared.sheet, headerRow: prepared.headerRow, columns: prepared.columns };
  if (prepared.kind === 'no-phone-column') {
    throw new AppError('VALIDATION', ru.listsService.noPhoneColumn(prepared.columns), { field: 'phoneColumn', ...choiceDetails });
  }
  if (prepared.kind === 'unknown-phone-column') {
    throw new AppError('VALIDATION', ru.listsService.unknownPhoneColumn(prepared.column, prepared.columns), { field: 'phoneColumn', ...choiceDetails });
  }
  return prepared;
}

export class ListsService {
  constructor(
    private readonly repo: ListsRepo,
    private readonly clock: Clock,
    /** Numbers erased on request (152-FZ): an upload drops them. Absent: nothing is dropped. */
    private readonly suppressedAmong: SuppressedAmong = async () => new Set(),
    private readonly limits: ImportLimits = async () => ({ maxMb: 20, maxRows: DEFAULT_MAX_ROWS }),
  ) {}

  /**
   * Reads an uploaded file (in a worker thread), normalises its numbers and stores the list, its
   * contacts and the file in one transaction. Bad files are AppErrors with a Russian message;
   * nothing is stored for them.
   */
  async importFile(request: ImportRequest): Promise<ListRecord> {
    // Checked before the file is read: a bad name should not cost a parse.
    const name = this.checkName(request.name);
    const reading = await this.startRead(request.data, request.fileName, request);
    const now = this.clock.now();
    const labels = {
      name: (name || request.fileName.replace(/\.[^.]+$/, '') || ru.listsService.defaultName).slice(0, MAX_LIST_NAME),
      tags: request.tags ?? [],
      createdBy: request.createdBy,
    };
    const id = await this.repo.createFrom(labels, reading.contacts, now, async (trx, target) => {
      const read = await reading.finish(trx, target);
      await this.writeConsents(trx, target.listId, request, read, now);
      return { contents: read.contents, imported: read.contacts.length, file: read.keepFile ? { fileName: read.contents.fileName, data: request.data } : undefined };
    });
    return (await this.repo.get(id))!;
  }

  /**
   * A new file into a kept list: its contacts become a new version (campaigns made from the old
   * one keep theirs); name and tags may change with it.
   */
  async reuploadFile(listId: number, request: ImportRequest): Promise<ListRecord> {
    const list = await this.get(listId);
    const name = this.checkName(request.name);
    const reading = await this.startRead(request.data, request.fileName, request);
    const now = this.clock.now();
    await this.repo.replaceFrom(list.id, reading.contacts, now, async (trx, target) => {
      const read = await reading.finish(trx, target);
      await this.writeConsents(trx, list.id, request, read, now);
      return { contents: read.contents, imported: read.contacts.length, file: read.keepFile ? { fileName: read.contents.fileName, data: request.data } : null };
    });
    if (name || request.tags !== undefined) await this.repo.updateLabels(list.id, { name: name || undefined, tags: request.tags });
    return this.get(list.id);
  }

  /**
   * Renames, retags, or reads the stored file again with another sheet, header row or phone column
   * (a new version of the contacts). A sheet change finds its header row again unless one is given;
   * the phone column stays when the new reading still has it.
   */
  async update(listId: number, patch: ListPatch): Promise<ListRecord> {
    const list = await this.get(listId);
    const name = this.checkName(patch.name);
    if (patch.name !== undefined && !name) throw new AppError('VALIDATION', ru.listsService.nameRequired, { field: 'name' });
    const reread = patch.sheet !== undefined || patch.headerRow !== undefined || patch.phoneColumn !== undefined;
    if (reread) {
      const file = await this.repo.file(list.id);
      if (!file) throw new AppError('CONFLICT', ru.listFiles.noStoredFile);
      const sheetChanged = patch.sheet !== undefined && patch.sheet !== list.sheet;
      const choice: ReadChoice = {
        sheet: patch.sheet ?? list.sheet ?? undefined,
        headerRow: patch.headerRow ?? (sheetChanged ? undefined : list.headerRow),
        phoneColumn: patch.phoneColumn,
      };
      const reading = await this.startRead(file.data, file.fileName, choice, patch.phoneColumn === undefined ? list.phoneColumn : undefined);
      await this.repo.replaceFrom(list.id, reading.contacts, this.clock.now(), async (trx, target) => {
        const read = await reading.finish(trx, target);
        return { contents: read.contents, imported: read.contacts.length, file: read.keepFile ? undefined : null };
      });
    }
    if (name || patch.tags !== undefined) await this.repo.updateLabels(list.id, { name: name || undefined, tags: patch.tags });
    return this.get(list.id);
  }

  private checkName(raw: string | undefined): string {
    const name = raw?.trim() ?? '';
    if (name.length > MAX_LIST_NAME) throw new AppError('VALIDATION', ru.listsService.nameTooLong(MAX_LIST_NAME), { field: 'name' });
    return name;
  }

  /**
   * Starts the parse in the worker within the administrator's limits. Its contacts are stored as
   * they arrive (the repo's createFrom / replaceFrom); the chunks end with an AppError when the
   * file cannot become a list — having yielded none, so no transaction was begun for it.
   */
  private async startRead(data: Buffer, fileName: string, choice: ReadChoice, preferPhoneColumn?: string): Promise<Reading> {
    const { maxMb, maxRows } = await this.limits();
    if (data.length > maxMb * 1024 * 1024) throw new AppError('TOO_LARGE', ru.listFiles.fileTooLarge(maxMb));
    const options: PrepareOptions = { phoneColumn: choice.phoneColumn, sheet: choice.sheet, headerRow: choice.headerRow, maxRows, preferPhoneColumn };
    const parse = streamImportInWorker(data, fileName, options);
    let prepared: ReadPrepared | null = null;
    async function* contacts(): AsyncGenerator<NewContact[]> {
      yield* parse.chunks;
      prepared = listable(await parse.prepared);
    }
    return {
      contacts: contacts(),
      finish: async (trx, target) => {
        if (!prepared) throw new Error('finish() before the last chunk');
        const taken = prepared.result.contacts;
        // Erased numbers (152-FZ) are known only once the whole file was read: the rows already
        // written for them go again, in the same transaction.
        const result = await dropSuppressed(prepared.result, (phones) => this.suppressedAmong(phones, trx));
        if (result.contacts.length < taken.length) {
          const kept = new Set(result.contacts);
          await this.repo.dropContacts(trx, target, taken.filter((c) => !kept.has(c)).map((c) => c.phone));
        }
        return {
          contents: {
            fileName: fileName.slice(0, 255),
            columns: prepared.columns,
            phoneColumn: prepared.phoneColumn,
            duplicates: result.duplicates,
            rejected: result.rejected,
            notes: result.notes,
            suppressed: result.suppressed,
            sheet: prepared.sheet,
            sheets: prepared.sheets,
            headerRow: prepared.headerRow,
          },
          contacts: result.contacts,
          // A file that held an erased number (152-FZ) is not kept: the number must not be stored again.
          keepFile: !result.holdsErased,
        };
      },
    };
  }

  /** The consents read from the upload's consent column, in the transaction storing the list. */
  private async writeConsents(trx: Knex.Transaction, listId: number, request: ImportRequest, read: Read, now: Date): Promise<void> {
    if (!request.consent) return;
    const consents = this.readConsents(request.consent, read.contents.columns, read.contacts, request.fileName, now);
    await this.consentWriter(consents, request.createdBy, now)?.(trx, listId);
  }

  private consentWriter(consents: ReturnType<ListsService['readConsents']>, createdBy: string | null, now: Date) {
    if (consents.length === 0) return undefined;
    return (trx: Knex.Transaction, _listId: number) =>
      new ComplianceRepo(trx).addConsents(trx, consents.map((c) => ({ ...c, action: 'given' as const, recordedBy: createdBy ?? 'import' })), now);
  }

  private readConsents(consent: { column: string; source: string }, columns: string[], contacts: Parameters<typeof readConsentColumn>[0], fileName: string, now: Date) {
    const column = consent.column.trim();
    if (!columns.includes(column)) throw new AppError('VALIDATION', ru.compliance.consentColumnUnknown(column, columns), { field: 'consentColumn', columns });
    const source = consent.source.trim();
    if (!source || source.length > 100) throw new AppError('VALIDATION', ru.compliance.consentColumnNeedsSource, { field: 'consentSource' });
    const { consents, errors } = readConsentColumn(contacts, column, source, fileName, now);
    if (errors.length > 0) throw new AppError('VALIDATION', ru.compliance.consentColumnErrors(errors.slice(0, 5), errors.length), { field: 'consentColumn', columns });
    return consents;
  }

  async get(id: number): Promise<ListRecord> {
    const list = await this.repo.get(id);
    if (!list) throw new AppError('NOT_FOUND', ru.listsService.notFound);
    return list;
  }

  all(filter: { tag?: string | undefined } = {}): Promise<ListRecord[]> {
    return this.repo.all(filter);
  }

  tags(): Promise<string[]> {
    return this.repo.tags();
  }

  contacts(listId: number, limit: number, offset = 0) {
    return this.repo.contacts(listId, { limit, offset });
  }

  /** The stored file, for a re-read (kept only for the current version). */
  file(listId: number): Promise<StoredFile | null> {
    return this.repo.file(listId);
  }
}
