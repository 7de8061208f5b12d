import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding package.json, views/ and public/: `src/…` under tsx, `dist/src/…` when built,
 * so the files are found by walking up rather than by a fixed number of `..`.
 */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`package.json not found above ${from}`);
  }
}

export const packageRoot = findPackageRoot(import.meta.dirname);
