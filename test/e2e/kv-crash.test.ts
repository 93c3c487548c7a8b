// The KV store under kill -9, with real processes, sockets and LMDB (fsync on): two clients on
// each of three nodes put, get and cas while the leader and then a follower are killed and
// restarted. The recorded history (an invocation whose node died is indeterminate) is
// linearizable by our checker, and every acknowledged put is still readable or overwritten.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOps, parseOps } from '../../sim/check/index.js';
import { freePort } from './ports.js';
import { LineProcess, growBy, leaderIndex, type Line } from './line-process.js';

const CHILD = resolve(import.meta.dirname, 'kv-node.ts');
const root = mkdtempSync(join(tmpdir(), 'troupe-kv-crash-'));
const live = new Set<LineProcess>();
afterAll(async () => {
  await Promise.all([...live].map((p) => p.kill()));
  rmSync(root, { recursive: true, force: true });
});

describe('kv under kill -9', () => {
  it('keeps a linearizable history through a killed leader and a killed follower', async () => {
    const voters = ['a', 'b', 'c'];
    const epoch = Date.now() - 1_000;
    const ports = await Promise.all(voters.map(() => freePort()));
    const seedsOf = (i: number) => ports.flatMap((p, j) => (j === i ? [] : [`127.0.0.1:${p}`])).join(',');
    const invoked = new Map<string, Record<string, unknown>>();
    const ended = new Map<string, Record<string, unknown>>();
    let acks = 0;
    const onLine = (l: Line) => {
      if (l.inv !== undefined) {
        const inv = l.inv as Record<string, unknown>;
        invoked.set(inv.id as string, inv);
      }
      if (l.end !== undefined) {
        const end = l.end as Record<string, unknown>;
        ended.set(end.id as string, end);
        if (end.error === undefined) acks++;
      }
    };
    const nodes: LineProcess[] = [];
    let incarnation = 0;
    const start = async (i: number) => {
      const p = new LineProcess(
        voters[i]!,
        CHILD,
        [
          voters[i]!,
          join(root, voters[i]!),
          String(ports[i]),
          seedsOf(i),
          voters.join(','),
          `${voters[i]}${++incarnation}.`,
          String(epoch),
        ],
        onLine,
      );
      live.add(p);
      nodes[i] = p;
      await p.next((l) => l.up !== undefined);
      p.send({ op: 'load' });
    };
    const progress = (n: number) => growBy(() => acks, n, 'completed operations');
    const kill = async (i: number) => {
      await nodes[i]!.kill();
      live.delete(nodes[i]!);
    };

    await Promise.all(voters.map((_, i) => start(i)));
    await progress(60);
    const leader = await leaderIndex(nodes);
    await kill(leader);
    await progress(40);
    await start(leader);
    await progress(40);
    const follower = (await leaderIndex(nodes)) === 0 ? 1 : 0;
    await kill(follower);
    await progress(40);
    await start(follower);
    await progress(40);
    for (const p of nodes) await p.ask({ op: 'stop-load' }, 'stopped');

    // An invocation without an end (its node was killed) is indeterminate.
    const ops = [...invoked.values()].map((inv) => {
      const end = ended.get(inv.id as string);
      return end === undefined ? { ...inv, error: 'timeout', ret: null } : { ...inv, ...end };
    });
    const parsed = parseOps(ops);
    expect(parsed.ok, JSON.stringify(parsed).slice(0, 1_000)).toBe(true);
    if (!parsed.ok) return;
    const verdict = checkOps(parsed.ops);
    expect(verdict.verdict, JSON.stringify(verdict).slice(0, 2_000)).toBe('linearizable');
    expect(acks).toBeGreaterThanOrEqual(220);
    for (const p of nodes) await kill(nodes.indexOf(p));
  }, 240_000);
});
