// The pg host over real WebSocket connections between three in-process nodes: local and remote
// views, monitors with their events, exits and node departures, broadcast, scopes.
import { afterEach, describe, expect, it } from 'vitest';
import { Node, type Pid, type ProcessContext } from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { until } from '../internode/helpers.js';
import { ProcessGroups, isPgMessage, type PgMailboxMessage } from '../../pg/index.js';
import type { PgEvent } from '../../pg/index.js';

const SECRET = 'pg-host-test-secret-0123';
type Member = { node: Node; net: Internode; pg: ProcessGroups };
const started: Member[] = [];

async function member(name: string, seeds: string[] = []): Promise<Member> {
  const node = await Node.start({ name, incarnation: 1 });
  const net = await Internode.start({ node, cluster: 'pg', secret: SECRET, listen: '127.0.0.1:0', seeds });
  const pg = ProcessGroups.start({ node, internode: net });
  const m = { node, net, pg };
  started.push(m);
  return m;
}

async function cluster(): Promise<[Member, Member, Member]> {
  const a = await member('a');
  const b = await member('b', [a.net.address]);
  const c = await member('c', [a.net.address]);
  await until(() => [a, b, c].every((m) => m.net.upNodes().length === 2));
  return [a, b, c];
}

const idle = (node: Node): Pid =>
  node.spawn(async (ctx: ProcessContext) => void (await ctx.receive((m) => m === 'stop')));
const names = (pids: readonly Pid[]): string[] => pids.map((p) => p.toString()).sort();

afterEach(async () => {
  for (const m of started.splice(0)) {
    await m.pg.stop();
    await m.net.stop();
    await m.node.stop();
  }
});

describe('pg host on one node', () => {
  it('joins, counts multiple joins, leaves, and a process exit removes every membership', async () => {
    const node = await Node.start({ name: 'solo', incarnation: 1 });
    const pg = ProcessGroups.start({ node });
    const p1 = idle(node);
    const p2 = idle(node);
    pg.join('g', p1);
    pg.join('g', [p2, p1]);
    expect(pg.members('g')).toEqual([p2, p1, p1]);
    expect(pg.leave('g', p1)).toBe('ok');
    expect(pg.members('g')).toEqual([p2, p1]);
    expect(pg.whichGroups()).toEqual(['g']);
    const exited = node.exited(p2);
    node.send(p2, 'stop');
    await exited;
    await until(() => pg.members('g').length === 1);
    expect(pg.members('g')).toEqual([p1]);
    expect(pg.leave('g', p2)).toBe('not_joined');
    await pg.stop();
    await node.stop();
  });

  it('a monitor gets its snapshot, then events delivered before join returns; demonitor stops it', async () => {
    const node = await Node.start({ name: 'solo', incarnation: 1 });
    const pg = ProcessGroups.start({ node });
    const p1 = idle(node);
    pg.join('g', p1);
    const mon = pg.monitor('g');
    expect(mon.snapshot).toEqual([p1]);
    const iterator = mon[Symbol.asyncIterator]();
    const p2 = idle(node);
    pg.join('g', p2);
    pg.leave('g', p1);
    expect((await iterator.next()).value).toEqual({ kind: 'join', group: 'g', pids: [p2] });
    expect((await iterator.next()).value).toEqual({ kind: 'leave', group: 'g', pids: [p1] });
    expect(mon.demonitor()).toBe(true);
    expect(mon.demonitor()).toBe(false);
    pg.join('g', p1);
    expect((await iterator.next()).done).toBe(true);
    await pg.stop();
    await node.stop();
  });

  it("a process's monitor delivers to its mailbox and ends when it exits; joining a dead pid is noproc", async () => {
    const node = await Node.start({ name: 'solo', incarnation: 1 });
    const pg = ProcessGroups.start({ node });
    const seen: PgMailboxMessage[] = [];
    const watcher = node.spawn(async (ctx) => {
      const { snapshot } = pg.scope().monitorFrom(ctx, 'g');
      expect(snapshot).toEqual([]);
      ctx.send(ctx.self, 'ready');
      await ctx.receive((m) => m === 'ready');
      for (let i = 0; i < 2; i++) seen.push((await ctx.receive(isPgMessage)) as PgMailboxMessage);
    });
    await until(() => node.processInfo(watcher)?.status === 'waiting');
    const p = idle(node);
    pg.join('g', p);
    pg.join('g', p);
    await node.exited(watcher);
    expect(seen.map((m) => m.event)).toEqual([
      { kind: 'join', group: 'g', pids: [p] },
      { kind: 'join', group: 'g', pids: [p] },
    ]);
    const dead = node.spawn(() => {});
    await node.exited(dead);
    expect(() => pg.join('g', dead)).toThrow(expect.objectContaining({ code: 'ERR_NOPROC' }));
    await pg.stop();
    await node.stop();
  });
});

describe('pg host across three nodes over WebSocket', () => {
  it('remote joins and leaves are seen everywhere; localMembers stay local', async () => {
    const [a, b, c] = await cluster();
    const pa = idle(a.node);
    const pb = idle(b.node);
    a.pg.join('workers', pa);
    b.pg.join('workers', [pb, pb]);
    await until(() => [a, b, c].every((m) => m.pg.members('workers').length === 3));
    expect(names(c.pg.members('workers'))).toEqual(names([pa, pb, pb]));
    expect(a.pg.localMembers('workers')).toEqual([pa]);
    expect(c.pg.localMembers('workers')).toEqual([]);
    expect(c.pg.whichGroups()).toEqual(['workers']);
    expect(c.pg.whichLocalGroups()).toEqual([]);
    b.pg.leave('workers', pb);
    await until(() => [a, b, c].every((m) => m.pg.members('workers').length === 2));
    expect(() => a.pg.join('workers', pb)).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_ARGUMENT', reason: 'not_local' }),
    );
  });

  it('a remote process exit and a node stop remove members with leave events, per the rules', async () => {
    const [a, b, c] = await cluster();
    const pb1 = idle(b.node);
    const pb2 = idle(b.node);
    const pc = idle(c.node);
    b.pg.join('g', [pb1, pb1, pb2]);
    c.pg.join('g', pc);
    await until(() => a.pg.members('g').length === 4);
    const mon = a.pg.monitor('g');
    const events: PgEvent[] = [];
    const reading = (async () => {
      for await (const e of mon) events.push(e);
    })();
    const exited = b.node.exited(pb2);
    b.node.send(pb2, 'stop');
    await exited;
    await until(() => a.pg.members('g').length === 3);
    // b leaves the cluster: all its pids leave in one event carrying its whole block (rule 11).
    await b.pg.stop();
    await b.net.stop();
    await until(() => a.pg.members('g').length === 1);
    expect(a.pg.members('g')).toEqual([pc]);
    mon.demonitor();
    await reading;
    expect(events).toEqual([
      { kind: 'leave', group: 'g', pids: [pb2] },
      { kind: 'leave', group: 'g', pids: [pb1, pb1] },
    ]);
  });

  it('broadcast sends once to every distinct member on every node; broadcastLocal only here', async () => {
    const [a, b, c] = await cluster();
    const got: string[] = [];
    const listener = (node: Node): Pid =>
      node.spawn(async (ctx) => {
        for (;;) got.push(`${node.name}:${String(await ctx.receive())}`);
      });
    const la = listener(a.node);
    const lb = listener(b.node);
    const lc = listener(c.node);
    a.pg.join('room', [la, la]);
    b.pg.join('room', lb);
    c.pg.join('room', lc);
    await until(() => a.pg.members('room').length === 4);
    expect(a.pg.broadcast('room', 'hi')).toBe(3);
    expect(a.pg.broadcastLocal('room', 'local')).toBe(1);
    await until(() => got.length === 4);
    expect(got.sort()).toEqual(['a:hi', 'a:local', 'b:hi', 'c:hi']);
  });

  it('scopes are independent, and a scope started later receives the existing members', async () => {
    const [a, b] = await cluster();
    const pa = idle(a.node);
    a.pg.startScope('extra').join('g', pa);
    a.pg.join('g', pa);
    await until(() => b.pg.members('g').length === 1);
    expect(b.pg.startScope('extra')).toBe(b.pg.startScope('extra'));
    await until(() => b.pg.scope('extra').members('g').length === 1);
    expect(b.pg.scope('extra').members('g')).toEqual([pa]);
    a.pg.scope('extra').leave('g', pa);
    await until(() => b.pg.scope('extra').members('g').length === 0);
    expect(b.pg.members('g')).toEqual([pa]);
  });
});
