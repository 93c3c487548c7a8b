// Scripted scenarios of the KV state machine (etcd datadriven style, test/datadriven.ts): cas,
// txn, leases and compaction, each file in testdata/ with its exact expected output inline.
// Rewrite them from the machine's behaviour with REWRITE=1 npx vitest run test/kv/scripts.test.ts,
// and review the diff.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { REWRITE, runScriptFile, scriptFiles, tableRunner } from '../datadriven.js';
import { kvCommands, newKvScriptState } from './script-commands.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

for (const file of scriptFiles(dir)) {
  test(`kv script ${basename(file)}`, () => {
    const { expected, actual } = runScriptFile(file, tableRunner(newKvScriptState(), kvCommands), REWRITE);
    if (!REWRITE) expect(actual).toBe(expected);
  });
}
