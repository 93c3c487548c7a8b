// Process groups and the eventual name registry across three real node processes: members and
// names registered on one are seen on the others; kill -9 removes the node's members at once and
// its names after the grace.
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster, type Pid } from '../../index.js';
import { NodeProcess, adminOf, cookieFile, eventually } from './processes.js';

const SECRET = 'e2e-groups-names-secret-42';
const GRACE_MS = 500;

describe('groups and names across real node processes', () => {
  const procs: NodeProcess[] = [];
  let observer: Cluster | undefined;

  afterAll(async () => {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    await observer?.stop();
  });

  it('propagates joins and registrations, and cleans up after kill -9', async () => {
    const cookie = cookieFile(SECRET);
    const args = ['--listen', '127.0.0.1:0', '--cookie-file', cookie, '--name-grace-ms', String(GRACE_MS)];
    const a = new NodeProcess('a', args);
    procs.push(a);
    const { address: seed } = await a.ready();
    const b = new NodeProcess('b', [...args, '--join', seed]);
    const c = new NodeProcess('c', [...args, '--join', seed]);
    procs.push(b, c);
    await Promise.all([b.ready(), c.ready()]);
    await Promise.all([a.line(/^up b /), a.line(/^up c /), b.line(/^up c /), c.line(/^up b /)]);

    const cluster = await Cluster.start({
      name: 'observer',
      secret: SECRET,
      listen: '127.0.0.1:0',
      seeds: [seed],
      logger: false,
    });
    observer = cluster;
    const { node } = cluster;
    await cluster.ready({ nodes: ['a', 'b', 'c'], timeout: 20_000 });

    const admins = new Map<string, Pid>();
    for (const name of ['a', 'b', 'c']) admins.set(name, await adminOf(node, name));
    const ask = <T>(name: string, request: unknown): Promise<T> =>
      node.call<T>(admins.get(name)!, request, { timeout: 10_000 });

    // Groups: 2 members on a, 1 on b; c sees all three.
    const onA = await ask<Pid[]>('a', { op: 'pg-join', group: 'workers', count: 2 });
    const onB = await ask<Pid[]>('b', { op: 'pg-join', group: 'workers', count: 1 });
    await eventually(async () => (await ask<Pid[]>('c', { op: 'pg-members', group: 'workers' })).length === 3);
    const seenByC = await ask<Pid[]>('c', { op: 'pg-members', group: 'workers' });
    expect(seenByC.map(String).sort()).toEqual([...onA, ...onB].map(String).sort());

    // Names: one registered on a and one on b are seen on c.
    const svc = await ask<Pid>('a', { op: 'register', name: 'svc' });
    const onBName = await ask<Pid>('b', { op: 'register', name: 'b-service' });
    await eventually(async () => (await ask<Pid | null>('c', { op: 'whereis', name: 'b-service' })) !== null);
    expect(String(await ask<Pid>('c', { op: 'whereis', name: 'svc' }))).toBe(String(svc));
    expect(String(await ask<Pid>('c', { op: 'whereis', name: 'b-service' }))).toBe(String(onBName));

    // kill -9 b: its group member leaves at once (node down), its name after the grace.
    b.kill('SIGKILL');
    await c.line(/^down b /);
    await eventually(async () => (await ask<Pid[]>('c', { op: 'pg-members', group: 'workers' })).length === 2);
    await eventually(async () => (await ask<Pid | null>('c', { op: 'whereis', name: 'b-service' })) === null);
    await eventually(async () => (await ask<Pid | null>('a', { op: 'whereis', name: 'b-service' })) === null);
    expect(String(await ask<Pid>('a', { op: 'whereis', name: 'svc' }))).toBe(String(svc));
  });
});
