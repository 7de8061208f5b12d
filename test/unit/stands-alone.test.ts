/**
 * The repository stands on its own: nothing it runs may read the `shared/` folder that sits beside
 * the developers' checkout (a stranger's clone has none), and the recorded AMI transcripts the
 * tests rely on are inside the repository.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { transcriptFiles } from '../helpers/ami-transcripts.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [dir];
  return readdirSync(full, { withFileTypes: true }).flatMap((entry) =>
    entry.name === 'node_modules' ? [] : filesUnder(path.join(dir, entry.name)));
}

describe('the repository stands on its own', () => {
  it('no file in src/, test/, bench/, .ci/, migrations/ or the build files reaches outside the repository', () => {
    // Built from parts so that this file does not match itself.
    const outside = new RegExp(['\\.\\./', 'shared', '|', 'shared/', '(fixtures|docs|seed)'].join(''));
    const offenders = ['src', 'test', 'bench', '.ci', 'migrations', 'bin', 'package.json', 'Makefile', 'tsconfig.json', 'tsconfig.test.json']
      .flatMap(filesUnder)
      .filter((file) => /\.(ts|mts|js|mjs|json|sh|md)$|^\.ci\/|Makefile$/.test(file))
      .filter((file) => outside.test(readFileSync(path.join(root, file), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('the AMI transcripts are in test/fixtures/ami, every one the protocol notes cite', () => {
    const files = transcriptFiles();
    assert.ok(files.length >= 7, `only ${files.length} transcripts`);
    const cited = new Set(readFileSync(path.join(root, 'docs/ami-protocol.md'), 'utf8').match(/chan-dongle-[a-z]+\.txt/g));
    for (const name of cited) assert.ok(files.includes(name), `docs/ami-protocol.md cites ${name}, which is missing`);
    assert.ok(existsSync(path.join(root, 'test/fixtures/ami/README.md')));
  });
});
