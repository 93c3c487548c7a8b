// Cluster: one object that runs a node and its subsystems, starts them in order, stops them in
// reverse within a bound, says when the expected members are up, and refuses bad options with
// errors that name them.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, ClusterNotReadyError, isTroupeError, type ClusterPart } from '../../index.js';

const SECRET = 'cluster-test-secret-0123456789';
const started: Cluster[] = [];

async function start(name: string, extra: Partial<Parameters<typeof Cluster.start>[0]> = {}): Promise<Cluster> {
  const c = await Cluster.start({ name, secret: SECRET, listen: '127.0.0.1:0', logger: false, ...extra });
  started.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

describe('Cluster', () => {
  it('runs a lone node with process groups and the eventual registry, without a network', async () => {
    const c = await Cluster.start({ name: 'solo', logger: false });
    started.push(c);
    expect(c.address).toBeNull();
    expect(() => c.internode).toThrow(expect.objectContaining({ code: 'ERR_BAD_CONFIG' }));
    const pid = c.node.spawn(async (ctx) => void (await ctx.receive()));
    c.pg.join('g', pid);
    c.eventual.register('svc', pid);
    expect(c.pg.members('g')).toEqual([pid]);
    expect(c.eventual.whereis('svc')?.equals(pid)).toBe(true);
    await c.ready({ timeout: 1_000 });
    expect(c.upNodes()).toEqual(['solo']);
  });

  it('three nodes find each other; ready({ nodes: 3 }) resolves; groups and names cross nodes', async () => {
    const a = await start('a');
    const b = await start('b', { seeds: [a.address!] });
    const c = await start('c', { seeds: [a.address!] });
    await Promise.all([a, b, c].map((n) => n.ready({ nodes: 3, timeout: 10_000 })));
    await a.ready({ nodes: ['b', 'c'], timeout: 1_000 });
    expect(new Set(a.upNodes())).toEqual(new Set(['a', 'b', 'c']));
    const seen = a.pg.monitor('workers');
    const pid = c.node.spawn(async (ctx) => void (await ctx.receive()));
    c.pg.join('workers', pid);
    for await (const event of seen) if (event.kind === 'join') break;
    expect(a.pg.members('workers').map(String)).toEqual([String(pid)]);
  });

  it('ready() rejects past its timeout naming what is missing, and on abort with ERR_ABORTED', async () => {
    const a = await start('lonely');
    const failure = await a.ready({ nodes: ['ghost'], timeout: 100 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ClusterNotReadyError);
    expect(isTroupeError(failure, 'ERR_TIMEOUT')).toBe(true);
    expect((failure as ClusterNotReadyError).missing).toEqual(['ghost']);
    const count = await a.ready({ nodes: 2, timeout: 100 }).catch((e: unknown) => e);
    expect((count as ClusterNotReadyError).missing[0]).toMatch(/^1 more node/);
    const controller = new AbortController();
    const pending = a.ready({ nodes: 5, timeout: 10_000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(a.ready({ nodes: 0 })).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
  });

  it('ready() waits for every attached part that has a ready()', async () => {
    const a = await start('parts');
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    a.attach({ name: 'slow', stop: async () => {}, ready: () => gate });
    const failure = await a.ready({ timeout: 100 }).catch((e: unknown) => e);
    expect((failure as ClusterNotReadyError).missing).toEqual(['slow']);
    const ready = a.ready({ timeout: 5_000 });
    open();
    await ready;
  });

  it('stops attached parts in reverse order, then the built-in ones; a part that hangs is bounded', async () => {
    const a = await start('order', { stopTimeoutMs: 200 });
    const order: string[] = [];
    const part = (name: string, hang = false): ClusterPart => ({
      name,
      stop: async () => {
        order.push(name);
        if (hang) await new Promise(() => {});
      },
    });
    a.attach(part('first'));
    a.attach(part('hangs', true));
    a.attach(part('last'));
    expect(() => a.attach(part('last'))).toThrow(expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }));
    const outcomes = await a.stop();
    expect(order).toEqual(['last', 'hangs', 'first']);
    expect(outcomes.map((o) => `${o.name}:${o.outcome}`)).toEqual([
      'last:stopped',
      'hangs:timeout',
      'first:stopped',
      'eventual:stopped',
      'kv.eventual:stopped',
      'pg:stopped',
      'internode:stopped',
    ]);
    expect(a.stopped).toBe(true);
    expect(() => a.node.spawn(async () => {})).toThrow(expect.objectContaining({ code: 'ERR_NODE_STOPPED' }));
    expect(await a.stop()).toBe(outcomes); // idempotent
    expect(() => a.attach(part('late'))).toThrow(expect.objectContaining({ code: 'ERR_STOPPED' }));
    await expect(a.ready()).rejects.toMatchObject({ code: 'ERR_STOPPED' });
  });

  it('refuses bad options with ERR_BAD_CONFIG naming the option, before starting anything', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', listen: '127.0.0.1:0' }, 'secret'],
      [{ name: 'x', listen: '127.0.0.1:0', secret: '  short  ' }, 'secret'],
      [{ name: 'x', seeds: ['127.0.0.1:1'], secret: 42 }, 'secret'],
      [{ name: 'bad name!' }, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', cluster: '' }, 'cluster'],
      [{ name: 'x', seeds: '127.0.0.1:1' }, 'seeds'],
      [{ name: 'x', stopTimeoutMs: -1 }, 'stopTimeoutMs'],
      [{ name: 'x', dialFrom: 'localhost' }, 'dialFrom'],
    ];
    for (const [options, option] of cases) {
      const failure = await Cluster.start({ logger: false, ...options } as never).catch((e: unknown) => e);
      expect(failure, JSON.stringify(options)).toMatchObject({ code: 'ERR_BAD_CONFIG', option });
    }
  });

  it('trims the secret as the CLI trims a cookie file: a padded secret joins an unpadded one', async () => {
    const a = await start('trim-a', { secret: `\n  ${SECRET}  \n` });
    const b = await start('trim-b', { secret: Buffer.from(SECRET), seeds: [a.address!] });
    await b.ready({ nodes: ['trim-a'], timeout: 10_000 });
  });

  it('dials peers from the local address given as dialFrom', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const seed = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const connected = once(server, 'connection') as Promise<[Socket]>;
    await start('dial-from', { dialFrom: '127.0.0.2', seeds: [seed] });
    const [socket] = await connected;
    expect(socket.remoteAddress).toBe('127.0.0.2');
    socket.destroy();
    server.close();
  });
});
