// The Raft host under kill -9, with real processes, real sockets and LMDB with fsync on: while
// proposals flow, the leader, then a follower, then all three nodes are killed and restarted
// from their data directories. Afterwards every acknowledged proposal is present exactly once
// on every node, and every node holds the same log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { LineProcess, growBy, leaderIndex, type Line } from './line-process.js';

const CHILD = resolve(import.meta.dirname, 'raft-node.ts');
const root = mkdtempSync(join(tmpdir(), 'troupe-raft-crash-'));
const live = new Set<LineProcess>();
afterAll(async () => {
  await Promise.all([...live].map((p) => p.kill()));
  rmSync(root, { recursive: true, force: true });
});

const acked = new Set<string>();
const indeterminate = new Set<string>();
/** Plain failures, by id: the host promises these were never appended. */
const failed = new Map<string, string>();

function onLine(line: Line): void {
  if (typeof line.ack === 'string') acked.add(line.ack);
  if (typeof line.indeterminate === 'string') indeterminate.add(line.indeterminate);
  if (typeof line.failed === 'string') failed.set(line.failed, String(line.code ?? '?'));
}

class RaftProcess extends LineProcess {
  constructor(name: string, port: number, seeds: string[], voters: string[]) {
    super(name, CHILD, [name, join(root, name), String(port), seeds.join(','), voters.join(',')], onLine);
    live.add(this);
  }
  override async kill(): Promise<void> {
    await super.kill();
    live.delete(this);
  }
}

describe('raft host under kill -9', () => {
  it('keeps every acknowledged proposal once on every node through leader, follower and full crashes', async () => {
    const voters = ['a', 'b', 'c'];
    const ports = await Promise.all(voters.map(() => freePort()));
    const seedsOf = (i: number) => ports.flatMap((p, j) => (j === i ? [] : [`127.0.0.1:${p}`]));
    const nodes: RaftProcess[] = [];
    let incarnation = 0;
    const start = async (i: number) => {
      const p = new RaftProcess(voters[i]!, ports[i]!, seedsOf(i), voters);
      nodes[i] = p;
      await p.next((l) => l.up !== undefined);
      p.send({ op: 'load', prefix: `${voters[i]}.${++incarnation}.` });
    };
    const progress = (n: number) => growBy(() => acked.size, n, 'acknowledged proposals');

    await Promise.all(voters.map((_, i) => start(i)));
    await progress(100);

    const leader = await leaderIndex(nodes);
    await nodes[leader]!.kill();
    await progress(50);
    await start(leader);
    await progress(50);

    const follower = (await leaderIndex(nodes)) === 0 ? 1 : 0;
    await nodes[follower]!.kill();
    await progress(50);
    await start(follower);
    await progress(50);

    await Promise.all(nodes.map((p) => p.kill()));
    await Promise.all(voters.map((_, i) => start(i)));
    await progress(100);

    for (const p of nodes) await p.ask({ op: 'stop-load' }, 'stopped');
    const logs = await Promise.all(nodes.map(async (p) => (await p.ask({ op: 'ids' }, 'ids')).ids as string[]));
    const [first, ...rest] = logs;
    expect(new Set(first).size).toBe(first!.length); // nothing applied twice
    for (const id of acked) expect(first).toContain(id);
    // A plain failure is never in the log; an id neither acknowledged nor indeterminate may be,
    // when its node was killed between commit and printing the outcome.
    expect(first!.filter((id) => failed.has(id)).map((id) => `${id}: ${failed.get(id)}`)).toEqual([]);
    for (const log of rest) expect(log).toEqual(first);
    expect(acked.size).toBeGreaterThanOrEqual(400);
    await Promise.all(nodes.map((p) => p.kill()));
  }, 240_000);
});
