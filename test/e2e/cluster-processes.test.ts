// Three `troupe node` processes on loopback, plus this test process as a fourth member that
// observes: they form a full mesh, messages and calls cross, kill -9 of one is seen as down by
// the others within the bound and fires monitors with noconnection, and a restart under the
// same name comes back as a new incarnation.
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster, isDown, type DownMessage } from '../../index.js';
import type { NodeEvent } from '../../internode/index.js';
import { NodeProcess, adminOf, cookieFile, eventually } from './processes.js';

const SECRET = 'e2e-cluster-secret-0123456789';
const DOWN_BOUND_MS = 10_000; // default downAfter 3 s + heartbeat 1 s, with room for a loaded machine

describe('a cluster of real node processes', () => {
  const procs: NodeProcess[] = [];
  let observer: Cluster | undefined;

  afterAll(async () => {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    await observer?.stop();
  });

  it('forms, carries messages, sees kill -9 as down with noconnection, and takes the restarted node back', async () => {
    const cookie = cookieFile(SECRET);
    const a = new NodeProcess('a', ['--listen', '127.0.0.1:0', '--cookie-file', cookie]);
    procs.push(a);
    const { address: seed } = await a.ready();
    const b = new NodeProcess('b', ['--listen', '127.0.0.1:0', '--join', seed, '--cookie-file', cookie]);
    const c = new NodeProcess('c', ['--listen', '127.0.0.1:0', '--join', seed, '--cookie-file', cookie]);
    procs.push(b, c);
    const { incarnation: bInc } = await b.ready();
    await c.ready();
    // Full mesh among the processes.
    await Promise.all([
      a.line(/^up b /),
      a.line(/^up c /),
      b.line(/^up a /),
      b.line(/^up c /),
      c.line(/^up a /),
      c.line(/^up b /),
    ]);

    // This process joins as a fourth member.
    const cluster = await Cluster.start({
      name: 'observer',
      secret: SECRET,
      listen: '127.0.0.1:0',
      seeds: [seed],
      logger: false,
    });
    observer = cluster;
    const { node, internode: net } = cluster;
    const events: NodeEvent[] = [];
    net.subscribe((e) => events.push(e));
    await cluster.ready({ nodes: ['a', 'b', 'c'], timeout: 20_000 });

    // Messages and calls cross: ask each node's admin process for its pid, then call it.
    const adminA = await adminOf(node, 'a');
    expect(adminA.node).toBe('a');
    expect(
      await node.call(adminA, { op: 'echo', value: { hello: ['from', 'observer'] } }, { timeout: 10_000 }),
    ).toEqual({ hello: ['from', 'observer'] });
    const infoA = (await node.call(adminA, { op: 'info' }, { timeout: 10_000 })) as {
      members: { node: string; state: string }[];
    };
    expect(
      infoA.members
        .filter((m) => m.state === 'up')
        .map((m) => m.node)
        .sort(),
    ).toEqual(['b', 'c', 'observer']);

    // Monitor b's admin process, then kill -9 b.
    const adminB = await adminOf(node, 'b');
    let downReason: unknown;
    const watcher = node.spawn(async (ctx) => {
      ctx.monitor(adminB);
      downReason = ((await ctx.receive(isDown)) as DownMessage).reason;
    });
    await eventually(() => node.processInfo(watcher)?.status === 'waiting');
    const killedAt = Date.now();
    b.kill('SIGKILL');
    // The kernel closes a killed process's sockets, so the others see 'disconnected' at once;
    // a silent peer (half-open connection) would be 'timeout' after downAfterMs.
    await Promise.all([
      a.line(/^down b \d+ (disconnected|timeout)/, DOWN_BOUND_MS),
      c.line(/^down b \d+ (disconnected|timeout)/, DOWN_BOUND_MS),
    ]);
    await node.exited(watcher);
    expect(downReason).toBe('noconnection');
    expect(Date.now() - killedAt).toBeLessThan(DOWN_BOUND_MS);

    // A send to the dead incarnation is dropped and counted, never delivered elsewhere.
    const noRouteBefore = net.stats().noRoute;
    node.send(adminB, 'to a dead incarnation');
    expect(net.stats().noRoute).toBe(noRouteBefore + 1);

    // Restart b: a new incarnation rejoins, and everyone sees it come up.
    const b2 = new NodeProcess('b', ['--listen', '127.0.0.1:0', '--join', seed, '--cookie-file', cookie]);
    procs.push(b2);
    const { incarnation: b2Inc } = await b2.ready();
    expect(b2Inc).toBeGreaterThan(bInc);
    await Promise.all([
      a.line(new RegExp(`^up b ${b2Inc}`)),
      c.line(new RegExp(`^up b ${b2Inc}`)),
      b2.line(/^up a /),
      b2.line(/^up c /),
    ]);
    await eventually(() => events.some((e) => e.type === 'up' && e.node === 'b' && e.incarnation === b2Inc));
    const bEvents = events.filter((e) => e.node === 'b').map((e) => `${e.type} ${e.incarnation}`);
    expect(bEvents).toEqual([`up ${bInc}`, `down ${bInc}`, `up ${b2Inc}`]);
    const adminB2 = await adminOf(node, 'b');
    expect(adminB2.incarnation).toBe(b2Inc);
    expect(await node.call(adminB2, { op: 'ping' }, { timeout: 10_000 })).toBe('pong');

    // SIGTERM is a graceful stop: the others see 'left' at once.
    c.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    await a.line(/^down c \d+ left/);
  });
});
