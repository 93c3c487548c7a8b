import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';

describe('troupe demo', () => {
  it('spawns, names, calls, observes a crash through a monitor and a link, and the supervisor restarts the child', async () => {
    const lines: string[] = [];
    await runDemo((l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toMatch(/answered "hello, troupe"/);
    expect(text).toMatch(/counted to 2/);
    expect(text).toMatch(/monitor: DOWN from <demo\.\d+\.\d+>, reason "counter asked to crash"/);
    expect(text).toMatch(/link \(trapping exits\): EXIT from/);
    expect(text).toMatch(/failed with ERR_CALLEE_EXITED/);
    expect(text).toMatch(/supervisor: restarted 'counter' as <demo\.\d+\.\d+>/);
    expect(text).toMatch(/fresh state after restart: counter = 0/);
    expect(lines.at(-1)).toBe('node stopped: every process exited with shutdown');
  });
});
