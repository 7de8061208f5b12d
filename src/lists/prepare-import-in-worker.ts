import { Worker } from 'node:worker_threads';
import { ru } from '../i18n/ru.js';
import type { PreparedImport } from './prepare-import.js';

export interface WorkerLimits {
  /** Heap the parse may use; past it the worker dies, not the service. */
  maxHeapMb: number;
  timeoutMs: number;
}

/**
 * 60 s is ~30 times what a 100 000-row workbook takes here; past it the file is not a list. The
 * box matters on a 2-core PBX that also carries calls: one upload must not take a core for minutes.
 */
export const defaultWorkerLimits: WorkerLimits = { maxHeapMb: 1536, timeoutMs: 60_000 };

/**
 * Runs {@link prepareImport} in a worker thread: a 100k-row workbook takes about two seconds of
 * CPU, which would otherwise stop the pages and the AMI connection, and a hostile file that
 * inflates past the heap limit kills only the worker.
 */
export function prepareImportInWorker(data: Buffer, fileName: string, phoneColumn: string | undefined, limits = defaultWorkerLimits): Promise<PreparedImport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./prepare-import-worker.mjs', import.meta.url), {
      workerData: { data: new Uint8Array(data), fileName, phoneColumn },
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
