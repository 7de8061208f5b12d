import { parentPort, workerData } from 'node:worker_threads';
import { prepareImport } from './prepare-import.js';

// One file per worker: parse, answer, exit.
const { data, fileName, phoneColumn } = workerData as { data: Uint8Array; fileName: string; phoneColumn?: string };
parentPort!.postMessage(prepareImport(data, fileName, phoneColumn));
