// Scripted interaction tests (etcd datadriven style): each file in testdata/ is a scenario with
// its exact expected output inline. REWRITE=1 npx vitest run test/raft/interaction.test.ts
// rewrites the files from the engine's behaviour; review the diff before committing.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { parseScript, renderScript, runScriptFile } from './script-runner.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env.REWRITE === '1';

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  test(`script ${file}`, () => {
    const { expected, actual } = runScriptFile(join(dir, file), rewrite);
    if (!rewrite) expect(actual).toBe(expected);
  });
}

test('the script format round-trips', () => {
  const text = '# c\nstatus 1\n----\nline\n\n# trailing\n';
  const p = parseScript(text);
  expect(
    renderScript(
      p.blocks.map((b) => ({ pre: b.pre, command: b.command, output: b.expected })),
      p.trailer,
    ),
  ).toBe(text);
});
