// The checker's command reads a history file and prints its verdict as JSON, with an exit
// status per verdict (a real process: it reads from disk).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'troupe-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(text: string, ...flags: string[]): { status: number | null; verdict: Record<string, unknown> } {
  const file = join(dir, `h${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, text);
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'sim/check/main.ts', ...flags, file], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: out.status, verdict: JSON.parse(out.stdout) as Record<string, unknown> };
}

describe('node --import tsx sim/check/main.ts <history-file>', () => {
  it('prints the verdict as JSON: linearizable (0), violation with its window (1), malformed (3)', () => {
    const good = [
      '{"client":1,"op":"put","key":"x","value":"1","call":1000,"ret":2500,"ok":true}',
      '{"client":2,"op":"get","key":"x","call":1800,"ret":3000,"ok":true,"read":"1"}',
    ].join('\n');
    expect(run(good)).toMatchObject({ status: 0, verdict: { verdict: 'linearizable', keys: 1, ops: 2 } });
    const stale = [
      good,
      '{"client":1,"op":"put","key":"x","value":"2","call":4000,"ret":4500}',
      '{"client":2,"op":"get","key":"x","call":5000,"ret":5100,"read":"1"}',
    ].join('\n');
    const v = run(stale);
    expect(v).toMatchObject({ status: 1, verdict: { verdict: 'violation', key: 'x', namespace: 'kv' } });
    expect((v.verdict.window as { ops: Array<{ line: number }> }).ops.map((o) => o.line)).toEqual([2, 3, 4]);
    expect(run('{"client":1,"op":"put"}\n')).toMatchObject({ status: 3, verdict: { verdict: 'malformed', line: 1 } });
    const again = [
      '{"client":"a","op":"register","key":"n","value":"a","call":1,"ret":2,"ok":true,"fence":3}',
      '{"client":"a","op":"register","key":"n","value":"a","call":5,"ret":6,"ok":true,"fence":3}',
    ].join('\n');
    expect(run(again).status).toBe(1);
    expect(run(again, '--idempotent-register').status).toBe(0);
  });
});
