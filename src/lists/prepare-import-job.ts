import { parentPort } from 'node:worker_threads';
import type { ContactStream } from './import.js';
import { packContacts, packPrepared, prepareImport, type PackedContacts, type PrepareOptions, type PreparedTransfer } from './prepare-import.js';

/** One parse asked of the worker; the worker answers `{ id, prepared }` and waits for the next. */
export interface ParseJob {
  id: number;
  data: Uint8Array;
  fileName: string;
  options: PrepareOptions;
  /**
   * Contacts per chunk to post (`{ id, chunk }`) as soon as they are normalised, before the answer;
   * the answer then packs none. Absent: every contact comes with the answer.
   */
  chunkSize?: number | undefined;
}

/** What the worker posts: chunks of contacts (only when the job asked for them), then the answer. */
export type ParseMessage = { id: number; chunk: PackedContacts; prepared?: undefined } | { id: number; prepared: PreparedTransfer; chunk?: undefined };

const post = (message: ParseMessage, transfer: ArrayBuffer[]) => parentPort!.postMessage(message, transfer);

// The worker stays up between parses (prepare-import-in-worker.ts ends it when idle), so that a
// re-read right after an upload does not pay for loading SheetJS and the phone metadata again.
parentPort!.on('message', (job: ParseJob) => {
  const stream: ContactStream | undefined = job.chunkSize
    ? {
        size: job.chunkSize,
        emit: (contacts) => {
          const chunk = packContacts(contacts);
          post({ id: job.id, chunk }, [chunk.rowNumbers.buffer as ArrayBuffer]);
        },
      }
    : undefined;
  const prepared = packPrepared(prepareImport(job.data, job.fileName, job.options, stream), stream !== undefined);
  const transfer = prepared.kind === 'ok' ? [prepared.result.packed.rowNumbers.buffer as ArrayBuffer] : [];
  post({ id: job.id, prepared }, transfer);
});
