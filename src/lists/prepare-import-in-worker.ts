import { Worker } from 'node:worker_threads';
import { ru } from '../i18n/ru.js';
import type { PrepareOptions, PreparedImport } from './prepare-import.js';

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
 * Runs {@link prepareImport} in a worker thread: a 100k-row workbook takes about two seconds of
 * CPU, which would otherwise stop the pages and the AMI connection, and a hostile file that
 * inflates past the heap limit kills only the worker. Parses are queued, one at a time.
 */
export function prepareImportInWorker(data: Buffer, fileName: string, options: PrepareOptions | string | undefined, limits?: WorkerLimits): Promise<PreparedImport> {
  const opts: PrepareOptions = typeof options === 'string' ? { phoneColumn: options } : (options ?? {});
  const run = queue.then(
    () => parseInWorker(data, fileName, opts, limits ?? configuredLimits),
    () => parseInWorker(data, fileName, opts, limits ?? configuredLimits),
  );
  queue = run.catch(() => undefined);
  return run;
}

function parseInWorker(data: Buffer, fileName: string, options: PrepareOptions, limits: WorkerLimits): Promise<PreparedImport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerEntry, {
      workerData: { data: new Uint8Array(data), fileName, options },
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const tooLarge: PreparedImport = { kind: 'bad-file', code: 'too-large', message: ru.lists.sheet.tooLargeUnpacked(fileName) };
    const tooSlow: PreparedImport = { kind: 'bad-file', code: 'too-slow', message: ru.lists.sheet.tooSlow(fileName, Math.round(limits.timeoutMs / 1000)) };
    const timer = setTimeout(() => finish(() => resolve(tooSlow)), limits.timeoutMs);
    worker.once('message', (result: PreparedImport) => finish(() => resolve(result)));
    worker.once('error', (error: Error & { code?: string }) =>
      finish(() => (error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? resolve(tooLarge) : reject(error))),
    );
    worker.once('exit', (code) => finish(() => reject(new Error(`list parser exited with code ${code}`))));
  });
}
