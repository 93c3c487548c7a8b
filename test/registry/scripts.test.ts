// Scripted scenarios of the eventual registry (conflicts) (etcd datadriven style, test/datadriven.ts): each file in
// testdata/ is a scenario with its exact expected output inline. Rewrite them from the cores'
// behaviour with REWRITE=1 npx vitest run test/registry/scripts.test.ts, and review the diff.
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { REWRITE, runScriptFile, scriptFiles, tableRunner } from '../datadriven.js';
import { newRegistryScriptState, registryCommands } from './script-commands.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

for (const file of scriptFiles(dir)) {
  test(`registry script ${basename(file)}`, () => {
    const { expected, actual } = runScriptFile(file, tableRunner(newRegistryScriptState(), registryCommands), REWRITE);
    if (!REWRITE) expect(actual).toBe(expected);
  });
}
