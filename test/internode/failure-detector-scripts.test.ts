// Scripted scenarios of the failure detector (etcd datadriven style, test/datadriven.ts): each file in
// testdata/ is a scenario with its exact expected output inline. Rewrite them from the detector's
// behaviour with REWRITE=1 npx vitest run test/internode/failure-detector-scripts.test.ts, and review the diff.
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { REWRITE, runScriptFile, scriptFiles, tableRunner } from '../datadriven.js';
import { detectorCommands, newDetectorScriptState } from './failure-detector-commands.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

for (const file of scriptFiles(dir).filter((f) => basename(f).startsWith('failure_detector'))) {
  test(`failure detector script ${basename(file)}`, () => {
    const { expected, actual } = runScriptFile(file, tableRunner(newDetectorScriptState(), detectorCommands), REWRITE);
    if (!REWRITE) expect(actual).toBe(expected);
  });
}
