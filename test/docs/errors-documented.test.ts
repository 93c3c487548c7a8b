// Every code of the one ErrorCode union has a row in docs/errors.md, and the page names no
// code the union lacks (a renamed or removed code leaves no stale row behind).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function unionCodes(): Set<string> {
  const source = readFileSync(resolve(ROOT, 'runtime/errors.ts'), 'utf8');
  const start = source.indexOf('export type ErrorCode');
  const end = source.indexOf('export class TroupeError');
  return new Set(
    source
      .slice(start, end)
      .match(/'ERR_[A-Z0-9_]+'/g)
      ?.map((c) => c.slice(1, -1)) ?? [],
  );
}

function documentedCodes(): Set<string> {
  const page = readFileSync(resolve(ROOT, 'docs/errors.md'), 'utf8');
  const rows = page.split('\n').filter((line) => line.startsWith('| `ERR_'));
  return new Set(rows.map((row) => /^\| `(ERR_[A-Z0-9_]+)`/.exec(row)![1]!));
}

describe('docs/errors.md', () => {
  it('has a row for every code of ErrorCode', () => {
    const missing = [...unionCodes()].filter((c) => !documentedCodes().has(c));
    expect(missing).toEqual([]);
  });

  it('documents no code that ErrorCode lacks', () => {
    const stale = [...documentedCodes()].filter((c) => !unionCodes().has(c));
    expect(stale).toEqual([]);
  });
});
