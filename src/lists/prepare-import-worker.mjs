// Worker thread entry for prepare-import-in-worker.ts when it runs from the TypeScript sources
// (development, tests): registers tsx (as bin/simcast.js does), then loads the TypeScript job.
// The built service (dist/) starts the compiled prepare-import-job.js instead and needs no tsx.
import { register } from 'tsx/esm/api';

register();
await import('./prepare-import-job.ts');
