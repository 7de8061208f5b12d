import { parentPort, workerData } from 'node:worker_threads';
import { prepareImport, type PrepareOptions } from './prepare-import.js';

// One file per worker: parse, answer, exit.
const { data, fileName, options } = workerData as { data: Uint8Array; fileName: string; options: PrepareOptions };
parentPort!.postMessage(prepareImport(data, fileName, options));
