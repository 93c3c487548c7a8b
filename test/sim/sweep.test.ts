// The one sweep command: a passing sweep prints no replay line and exits 0; a failing seed (here
// a deliberately broken raft engine) prints one `replay:` line, and that line replays the same
// failure on its own.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sweep(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'sim/sweep.ts', ...args], { cwd: ROOT }, (err, stdout) =>
      done({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: stdout }),
    );
  });
}

describe('sim/sweep.ts', () => {
  it('sweeps every target; a clean sweep prints a summary and no replay line', async () => {
    for (const target of ['pg', 'registry']) {
      const { code, out } = await sweep([target, '--from', '1', '--count', '2']);
      expect(code).toBe(0);
      expect(out).toContain(`${target}: 2/2 seeds passed`);
      expect(out).not.toContain('replay:');
    }
  });

  it('prints one replay line per failing seed, and the line reproduces the failure', async () => {
    const { code, out } = await sweep(['raft', '--from', '1', '--count', '6', '--broken', 'ackBeforeDurable']);
    expect(code).toBe(1);
    const fails = out.split('\n').filter((l) => l.startsWith('FAIL '));
    const replays = out.split('\n').filter((l) => l.startsWith('replay: '));
    expect(fails.length).toBeGreaterThan(0);
    expect(replays.length).toBe(fails.length);
    const again = await sweep(replays[0]!.replace('replay: node --import tsx sim/sweep.ts ', '').split(' '));
    expect(again.code).toBe(1);
    expect(again.out).toContain(fails[0]);
    expect(again.out.split('\n').filter((l) => l.startsWith('replay: '))).toEqual([replays[0]]);
  });

  it('refuses an unknown target with its usage', async () => {
    const { code, out } = await sweep(['nope']);
    expect(code).toBe(2);
    expect(out).toContain('usage: node --import tsx sim/sweep.ts <raft|raft-host|kv|pg|registry|membership>');
  });
});
