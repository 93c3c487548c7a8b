// The admin process of a real `troupe node` survives bad requests: each is answered with a
// typed AdminError, nothing is left behind (no orphan processes), and a crash is restarted by
// its supervisor. Benchmark operations answer only on a node started with --bench-admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Pid } from '../../index.js';
import { isAdminError, type AdminError, type AdminInfo } from '../../cli/node-admin.js';
import { NodeProcess, adminOf, cookieFile } from '../e2e/processes.js';

const SECRET = 'admin-test-secret-0123456789';
let bench: NodeProcess;
let plain: NodeProcess;
let observer: Cluster;

beforeAll(async () => {
  const cookie = cookieFile(SECRET);
  bench = new NodeProcess('bench', ['--cookie-file', cookie]); // NodeProcess passes --bench-admin
  const { address } = await bench.ready();
  plain = new NodeProcess('plain', ['--cookie-file', cookie, '--join', address], { benchAdmin: false });
  await plain.ready();
  observer = await Cluster.start({
    name: 'observer',
    secret: SECRET,
    listen: '127.0.0.1:0',
    seeds: [address],
    logger: false,
  });
  await observer.ready({ nodes: ['bench', 'plain'], timeout: 20_000 });
});

afterAll(async () => {
  await observer?.stop();
  bench?.kill();
  plain?.kill();
});

const ask = <T>(pid: Pid, request: unknown): Promise<T> => observer.node.call<T>(pid, request, { timeout: 10_000 });

describe('admin process', () => {
  it('answers every bad request with a typed AdminError and keeps serving', async () => {
    const admin = await adminOf(observer.node, 'bench');
    const before = (await ask<AdminInfo>(admin, { op: 'info' })).processes;
    const bad: [unknown, string][] = [
      [null, 'ERR_BAD_ARGUMENT'],
      [42, 'ERR_BAD_ARGUMENT'],
      [{ op: 7 }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'no-such-op' }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'whereis' }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'whereis', name: 'x'.repeat(256) }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'register', name: 'x'.repeat(10_000) }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'names-scan' }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'names-scan', ranges: [{ prefix: 'p' }] }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'pg-join', group: 'g', count: -1 }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'pg-join', group: 'g', count: 1e9 }, 'ERR_BAD_ARGUMENT'],
      [{ op: 'pg-watch', group: 'g', to: 'not a pid', events: 1 }, 'ERR_BAD_ARGUMENT'],
    ];
    for (const [request, code] of bad) {
      const reply = await ask<AdminError>(admin, request);
      expect(isAdminError(reply), JSON.stringify(request)).toBe(true);
      expect(reply.code, JSON.stringify(request)).toBe(code);
    }
    expect(await ask(admin, { op: 'ping' })).toBe('pong');
    // A name taken on this node: the second registration is refused and its process does not linger.
    await ask<Pid>(admin, { op: 'register', name: 'taken' });
    const taken = await ask<AdminError>(admin, { op: 'register', name: 'taken' });
    expect(taken).toMatchObject({ type: 'admin-error', code: expect.stringMatching(/^ERR_/) });
    const after = (await ask<AdminInfo>(admin, { op: 'info' })).processes;
    expect(after).toBe(before + 1); // only the first registration's process
    const stats = await ask<{ admin: { badRequests: number } }>(admin, { op: 'stats' });
    expect(stats.admin.badRequests).toBeGreaterThanOrEqual(bad.length + 1);
  });

  it('a crashed admin process is restarted by its supervisor under the same name', async () => {
    const first = await adminOf(observer.node, 'bench');
    const watcher = observer.node.spawn(async (ctx) => {
      ctx.monitor(first);
      ctx.exit(first, 'kill');
      await ctx.receive((m) => (m as { type?: string }).type === 'DOWN', { timeout: 10_000 });
    });
    await observer.node.exited(watcher);
    const second = await adminOf(observer.node, 'bench');
    expect(second.equals(first)).toBe(false);
    expect(await ask(second, { op: 'ping' })).toBe('pong');
  });

  it('benchmark operations are refused on a node started without --bench-admin', async () => {
    const admin = await adminOf(observer.node, 'plain');
    const reply = await ask<AdminError>(admin, { op: 'pg-join', group: 'g', count: 10 });
    expect(reply).toMatchObject({ type: 'admin-error', code: 'ERR_BAD_ARGUMENT' });
    expect(reply.message).toMatch(/unknown op/);
    expect(await ask(admin, { op: 'ping' })).toBe('pong');
  });
});
