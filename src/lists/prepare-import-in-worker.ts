import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { ImportedContact } from './import.js';
import type { ParseJob, ParseMessage } from './prepare-import-job.js';
import { unpackContacts, unpackPrepared, type PrepareOptions, type PreparedImport } from './prepare-import.js';

export interface WorkerLimits {
  /** Heap the parse may use; past it the worker dies, not the service. */
  maxHeapMb: number;
  timeoutMs: number;
}

/**
 * 60 s is ~30 times what a 100 000-row workbook takes here; past it the file is not a list. The
 * box matters on a 2-core PBX that also carries calls: one upload must not take a core for minutes.
 * The heap: a 100 000-row, 4-column workbook (8.6 MB) parses with 128 MB of old generation and
 * fails with 96 (measured; slower near the limit, GC); the process then peaks around 500 MB RSS.
 * 512 leaves room for wider sheets and, with one parse at a time, keeps the OOM killer away
 * from Asterisk on a 2 GB PBX (it used to be 1536). IMPORT_MAX_HEAP_MB changes it.
 */
export const defaultWorkerLimits: WorkerLimits = { maxHeapMb: 512, timeoutMs: 60_000 };

let configuredLimits: WorkerLimits = defaultWorkerLimits;

/** Sets the limits every later parse uses (the service calls it once with IMPORT_MAX_HEAP_MB). */
export function configureImportWorker(limits: Partial<WorkerLimits>): void {
  configuredLimits = { ...defaultWorkerLimits, ...limits };
}

/**
 * Compiled (dist/…/*.js) the worker runs the compiled job directly; from the TypeScript sources
 * (tsx) it runs a plain .mjs that registers tsx first, since a worker does not inherit the loader.
 */
const workerEntry = import.meta.url.endsWith('.ts')
  ? new URL('./prepare-import-worker.mjs', import.meta.url)
  : new URL('./prepare-import-job.js', import.meta.url);

/** One parse at a time in the whole process: two big uploads must not need twice the memory. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Uploads that may wait behind the running parse. Each holds its whole file in memory (up to the
 * upload cap) and would wait a minute or more anyway: past this, staff are told to try again.
 */
export const MAX_WAITING_PARSES = 2;

/**
 * How long a worker waits for the next parse before it ends. Starting one loads SheetJS and the
 * phone metadata (~0.3 s compiled, seconds under tsx); staff who pick another header row or phone
 * column right after an upload, or upload lists one after another, get a warm one. Idle, it ends,
 * and its memory goes back to the PBX.
 */
const KEEP_WARM_MS = 30_000;

let warm: { worker: Worker; maxHeapMb: number; timer: NodeJS.Timeout } | null = null;
let nextJobId = 1;
/** Parses queued or running: a warm-up never starts a second worker beside a running one. */
let pending = 0;

/**
 * Starts a worker ahead of an upload (the lists pages call it: staff there are about to upload or
 * re-read), so the upload does not wait for SheetJS and the phone metadata to load. A no-op while
 * one is warm or a parse runs; an unused one ends after {@link KEEP_WARM_MS}.
 */
export function warmImportWorker(limits: WorkerLimits = configuredLimits): void {
  if (warm || pending > 0) return;
  const worker = new Worker(workerEntry, { resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb }, stdout: false, stderr: false });
  // A worker that fails to start is simply not warm; the next parse starts its own.
  worker.once('error', () => {
    if (warm?.worker === worker) {
      clearTimeout(warm.timer);
      warm = null;
    }
  });
  keepWarm(worker, limits.maxHeapMb);
}

/**
 * Runs {@link prepareImport} in a worker thread: a 100k-row workbook takes about two seconds of
 * CPU, which would otherwise stop the pages and the AMI connection, and a hostile file that
 * inflates past the heap limit kills only the worker. Parses are queued, one at a time.
 */
export function prepareImportInWorker(data: Buffer, fileName: string, options: PrepareOptions | string | undefined, limits?: WorkerLimits, stream?: ChunkSink): Promise<PreparedImport> {
  const opts: PrepareOptions = typeof options === 'string' ? { phoneColumn: options } : (options ?? {});
  if (pending > MAX_WAITING_PARSES) return Promise.reject(new AppError('BUSY', ru.lists.sheet.busy));
  pending++;
  const run = queue.then(
    () => parseInWorker(data, fileName, opts, limits ?? configuredLimits, stream),
    () => parseInWorker(data, fileName, opts, limits ?? configuredLimits, stream),
  );
  queue = run.catch(() => undefined);
  void queue.then(() => pending--);
  return run;
}

/** Where the contacts of a streamed parse go as they arrive. */
interface ChunkSink {
  size: number;
  onChunk(contacts: ImportedContact[]): void;
}

/** An import parsed in the worker whose contacts arrive while the worker is still normalising rows. */
export interface StreamedImport {
  /**
   * The contacts in row order, chunk by chunk, as the worker normalises them (only an `ok` parse
   * has any). Ends once the parse is done; throws if the worker failed.
   */
  chunks: AsyncIterable<ImportedContact[]>;
  /** The whole answer, its result holding every contact; settled once the last chunk has arrived. */
  prepared: Promise<PreparedImport>;
}

/**
 * Contacts per chunk a streamed parse posts: the first one is stored after a tenth of 100 000 rows
 * are normalised, and the database writes the rest while the worker normalises the others.
 */
export const STREAM_CHUNK = 10_000;

/**
 * {@link prepareImportInWorker}, with the contacts handed over in chunks while the worker goes on:
 * the caller stores them as they come (ListsService), so writing them overlaps the normalising.
 */
export function streamImportInWorker(data: Buffer, fileName: string, options: PrepareOptions, limits?: WorkerLimits, chunkSize = STREAM_CHUNK): StreamedImport {
  const arrived: ImportedContact[][] = [];
  let finished = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const prepared = prepareImportInWorker(data, fileName, options, limits, {
    size: chunkSize,
    onChunk: (contacts) => {
      arrived.push(contacts);
      notify();
    },
  });
  // Also marks a failure as handled: a caller whose transaction failed first never awaits it.
  const settle = () => {
    finished = true;
    notify();
  };
  prepared.then(settle, settle);
  async function* chunks(): AsyncGenerator<ImportedContact[]> {
    for (;;) {
      const next = arrived.shift();
      if (next) yield next;
      else if (finished) {
        await prepared; // a failed parse throws here
        return;
      } else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return { chunks: chunks(), prepared };
}

/** A worker for a parse: the warm one if its heap limit is the one asked for, else a new one. */
function takeWorker(maxHeapMb: number): Worker {
  if (warm) {
    clearTimeout(warm.timer);
    const { worker, maxHeapMb: heap } = warm;
    warm = null;
    if (heap === maxHeapMb) return worker;
    void worker.terminate();
  }
  return new Worker(workerEntry, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb }, stdout: false, stderr: false });
}

function keepWarm(worker: Worker, maxHeapMb: number): void {
  worker.unref(); // an idle worker never keeps the process (tests, CLI) alive
  const timer = setTimeout(() => {
    if (warm?.worker === worker) warm = null;
    void worker.terminate();
  }, KEEP_WARM_MS);
  timer.unref();
  warm = { worker, maxHeapMb, timer };
}

function parseInWorker(data: Buffer, fileName: string, options: PrepareOptions, limits: WorkerLimits, stream?: ChunkSink): Promise<PreparedImport> {
  return new Promise((resolve, reject) => {
    const worker = takeWorker(limits.maxHeapMb);
    worker.ref();
    const id = nextJobId++;
    let settled = false;
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    // A worker that failed, ran out of time or memory is never reused.
    const fail = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      cleanup();
      void worker.terminate();
      outcome();
    };
    const tooLarge: PreparedImport = { kind: 'bad-file', code: 'too-large', message: ru.lists.sheet.tooLargeUnpacked(fileName) };
    const tooSlow: PreparedImport = { kind: 'bad-file', code: 'too-slow', message: ru.lists.sheet.tooSlow(fileName, Math.round(limits.timeoutMs / 1000)) };
    const timer = setTimeout(() => fail(() => resolve(tooSlow)), limits.timeoutMs);
    // A streamed parse: its contacts, chunk by chunk, for the answer (which packs none of them).
    const streamed: ImportedContact[][] = [];
    const onMessage = (answer: ParseMessage) => {
      if (answer.id !== id || settled) return;
      if (answer.chunk) {
        const contacts = unpackContacts(answer.chunk);
        streamed.push(contacts);
        stream?.onChunk(contacts);
        return;
      }
      settled = true;
      cleanup();
      keepWarm(worker, limits.maxHeapMb);
      const prepared = unpackPrepared(answer.prepared);
      if (prepared.kind === 'ok' && streamed.length > 0) prepared.result.contacts = streamed.flat().concat(prepared.result.contacts);
      resolve(prepared);
    };
    const onError = (error: Error & { code?: string }) => fail(() => (error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? resolve(tooLarge) : reject(error)));
    const onExit = (code: number) => fail(() => reject(new Error(`list parser exited with code ${code}`)));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    // A copy the worker owns (transferred, not cloned): the caller's Buffer may be a slice of a pool.
    const copy = new Uint8Array(data);
    const job: ParseJob = { id, data: copy, fileName, options, chunkSize: stream?.size };
    worker.postMessage(job, [copy.buffer]);
  });
}
