#!/usr/bin/env node
// `npx simcast …`. In a checkout (src/ and the dev dependency tsx present) it runs the TypeScript
// sources through tsx, so there is no build step to forget; an installed tree (`make install`:
// no src/, no tsx) runs the build, dist/main.js.
import { existsSync } from 'node:fs';

const sources = new URL('../src/main.ts', import.meta.url);
let register = null;
if (existsSync(sources)) {
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // production dependencies only: use the build
  }
}
if (register) {
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/main.js', import.meta.url).href);
}
