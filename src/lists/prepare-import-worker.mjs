// Worker thread entry for prepare-import-in-worker.ts. Plain JavaScript so that Node can start it
// directly; it registers tsx (as bin/simcast.js does) and then loads the TypeScript job.
import { register } from 'tsx/esm/api';

register();
await import('./prepare-import-job.ts');
