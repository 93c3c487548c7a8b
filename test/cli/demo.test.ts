import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';

describe('troupe demo', () => {
  it('tours one node, then three nodes: groups, broadcast, names, a conflict, kv, a node leaving', async () => {
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
    expect(text).toMatch(/node stopped: every process exited with shutdown/);
    // The cluster part: three nodes over WebSocket on loopback.
    expect(text).toMatch(/cluster formed in \d+ ms/);
    expect(text).toMatch(/pg: 'workers' has 6 members seen from c; 2 of them are local to c/);
    expect(text).toMatch(/pg: a broadcast from b reached 6 workers; answers: a did job-1, b did job-1, c did job-1/);
    expect(text).toMatch(/registry: 'leader' registered on b is <b\.\d+\.\d+> as seen from c/);
    expect(text).toMatch(/all nodes agree on <[ac]\.\d+\.\d+>, and the other claimant was told it lost/);
    expect(text).toMatch(
      /c left: a and b see 1 peer each; 'workers' lost c's block \(one leave event carrying 2 pids\); 4 members remain/,
    );
    expect(text).toMatch(/kv: put on a at revision \d+; c read on \(linearizable\); c's cas on to off succeeded; /);
    expect(text).toMatch(/b watched feature\/dark-mode=on@\d+, feature\/dark-mode=off@\d+/);
    expect(text).toMatch(/kv without c: b wrote feature\/beta at revision \d+; a reads yes/);
    expect(lines.at(-1)).toBe('cluster stopped');
  });
});
