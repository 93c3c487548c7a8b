// The README's first program, as tests read it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** The first ```ts block of README.md. */
export function readmeFirstProgram(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error('README.md has no ts block');
  return match[1]!;
}
