// Scripted scenarios of the pg protocol (etcd datadriven style, test/datadriven.ts): each file in
// testdata/ is a scenario with its exact expected output inline. Rewrite them from the core's
// behaviour with REWRITE=1 npx vitest run test/pg/scripts.test.ts, and review the diff.
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { REWRITE, runScriptFile, scriptFiles, tableRunner } from '../datadriven.js';
import { newPgScriptState, pgCommands } from './script-commands.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

for (const file of scriptFiles(dir)) {
  test(`pg script ${basename(file)}`, () => {
    const { expected, actual } = runScriptFile(file, tableRunner(newPgScriptState(), pgCommands), REWRITE);
    if (!REWRITE) expect(actual).toBe(expected);
  });
}
