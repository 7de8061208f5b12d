import { parentPort } from 'node:worker_threads';
import { packPrepared, prepareImport, type PrepareOptions } from './prepare-import.js';

/** One parse asked of the worker; the worker answers `{ id, prepared }` and waits for the next. */
export interface ParseJob {
  id: number;
  data: Uint8Array;
  fileName: string;
  options: PrepareOptions;
}

// The worker stays up between parses (prepare-import-in-worker.ts ends it when idle), so that a
// re-read right after an upload does not pay for loading SheetJS and the phone metadata again.
parentPort!.on('message', (job: ParseJob) => {
  const prepared = packPrepared(prepareImport(job.data, job.fileName, job.options));
  const transfer = prepared.kind === 'ok' ? [prepared.result.packed.rowNumbers.buffer as ArrayBuffer] : [];
  parentPort!.postMessage({ id: job.id, prepared }, transfer);
});
