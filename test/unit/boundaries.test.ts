import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// The pure core: decisions (scheduling, quotas, segments, consent, states) with no I/O and no
// clock of their own. This test is the boundary lint: it reads the sources, runs nothing.
const src = path.resolve(import.meta.dirname, '../../src');
const pure = [
  ...readdirSync(path.join(src, 'scheduling')).map((f) => `scheduling/${f}`),
  'templates/render.ts',
  'templates/segments.ts',
  'templates/translit.ts',
  'lists/phone.ts',
  'lists/sheet.ts',
  'lists/import.ts',
  'campaigns/campaign.ts',
  'campaigns/campaign-plan.ts',
  'campaigns/recipients.ts',
  'dispatcher/message-state.ts',
  'modems/ami/frame.ts',
  'modems/ami/ami-values.ts',
  'modems/ami/dongle-events.ts',
  'settings/settings.ts',
];
const forbiddenImports = [/^knex$/, /^pg$/, /^express/, /^node:(net|http|fs|child_process)$/, /\/db\//, /\/web\//, /^\.\.?\/.*-repo\.js$/, /-service\.js$/, /asterisk-manager/];

for (const file of pure.filter((f) => f.endsWith('.ts'))) {
  test(`${file} stays pure`, () => {
    const text = readFileSync(path.join(src, file), 'utf8');
    const imports = [...text.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    for (const spec of imports) {
      assert.ok(!forbiddenImports.some((re) => re.test(spec)), `${file} imports ${spec}`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(code, /Date\.now\(\)|new Date\(\)/, `${file} reads the clock itself; take \`now\` as a parameter`);
    assert.doesNotMatch(code, /Math\.random\(\)/, `${file} draws randomness itself; take \`random\` as a parameter`);
  });
}
