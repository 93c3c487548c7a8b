// Every example runs as a newcomer runs it (`npx tsx examples/<name>.ts`, a real process) and
// prints what its comments promise; the README's first program is examples/cluster.ts as a user
// writes it (importing 'troupe'), so the two cannot drift apart.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readmeFirstProgram } from './readme.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');
const run = promisify(execFile);

/** What each example must print; an example without an entry fails the test. */
const EXPECTED: Record<string, readonly RegExp[]> = {
  'hello.ts': [/^hello, world$/m, /^greeter is down: killed$/m],
  'cluster.ts': [/^hello, world, from node b$/m, /^a sees 1 member of 'greeters'; up: a, b$/m],
};

describe('examples', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts'));

  it('every example has its expected output listed', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s runs to completion and prints what it promises', async (file) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(EXAMPLES, file)], {
      cwd: ROOT,
      timeout: 60_000,
    });
    for (const pattern of EXPECTED[file] ?? [/^$/]) expect(stdout).toMatch(pattern);
  });

  it("the README's first program is examples/cluster.ts, importing 'troupe'", () => {
    const example = readFileSync(join(EXAMPLES, 'cluster.ts'), 'utf8')
      .split('\n')
      .filter((line, i) => !(i < 2 && line.startsWith('//')))
      .join('\n')
      .replace("from '../index.js'", "from 'troupe'");
    expect(readmeFirstProgram()).toBe(example);
  });
});
