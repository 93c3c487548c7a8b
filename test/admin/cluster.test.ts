// Three real Clusters in one process over loopback WebSockets, each with its admin server: the
// views agree on members and the Raft leader, /readyz follows membership, and a node's /metrics
// carries the internode counters. Also: admin is off by default, its options are validated, and
// a port in use leaves nothing running.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Cluster, isTroupeError } from '../../index.js';

const SECRET = 'admin-cluster-test-secret-0123456789';
const root = mkdtempSync(join(tmpdir(), 'troupe-admin-cluster-'));
const started: Cluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function threeNodes(run: string): Promise<Cluster[]> {
  const voters = ['a', 'b', 'c'];
  const nodes: Cluster[] = [];
  let seed: string | undefined;
  for (const name of voters) {
    const c = await Cluster.start({
      name,
      secret: SECRET,
      listen: '127.0.0.1:0',
      logger: false,
      heartbeatIntervalMs: 100,
      downAfterMs: 600,
      ...(seed !== undefined ? { seeds: [seed] } : {}),
      raft: { dataDir: join(root, run, name), voters },
      admin: { listen: '127.0.0.1:0' },
    });
    seed ??= c.address!;
    started.push(c);
    nodes.push(c);
  }
  await Promise.all(nodes.map((n) => n.ready({ nodes: 3, timeout: 15_000 })));
  return nodes;
}

const get = async (c: Cluster, path: string) => {
  const r = await fetch(c.admin.url + path);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('admin server in a 3-node cluster', () => {
  it('lists the three members up on every node and names the same Raft leader', async () => {
    const nodes = await threeNodes('views');
    for (const n of nodes) {
      const status = (await get(n, '/v1/status')).body as { members: { node: string; state: string }[] };
      expect(status.members.map((m) => `${m.node}:${m.state}`).sort()).toEqual(['a:up', 'b:up', 'c:up']);
    }
    const leaders = await Promise.all(
      nodes.map(async (n) => ((await get(n, '/v1/raft')).body as { groups: { leader: string }[] }).groups[0]!.leader),
    );
    expect(new Set(leaders).size).toBe(1);
    const leader = nodes.find((n) => n.name === leaders[0])!;
    const raft = (await get(leader, '/v1/raft')).body as { groups: { role: string; peers: { id: string }[] }[] };
    expect(raft.groups[0]!.role).toBe('leader');
    expect(raft.groups[0]!.peers.map((p) => p.id).sort()).toEqual(['a', 'b', 'c'].filter((n) => n !== leader.name));
    const queues = (await get(nodes[0]!, '/v1/queues')).body as { peers: { node: string; depth: object }[] };
    expect(queues.peers.map((p) => p.node).sort()).toEqual(['b', 'c']);
    expect(Object.keys(queues.peers[0]!.depth)).toContain('raft');
  });

  it('answers /readyz 200 with every voter up, then 503 naming the one that stopped', async () => {
    const nodes = await threeNodes('ready');
    await expect.poll(async () => (await get(nodes[0]!, '/readyz')).status, { timeout: 5_000 }).toBe(200);
    await started.splice(2, 1)[0]!.stop();
    await expect.poll(async () => (await get(nodes[0]!, '/readyz')).status, { timeout: 10_000 }).toBe(503);
    const body = (await get(nodes[0]!, '/readyz')).body as { checks: { members: { detail: string } } };
    expect(body.checks.members.detail).toMatch(/waiting for c/);
    expect((await get(nodes[0]!, '/livez')).status).toBe(200);
  });

  it('serves the node internode counters in /metrics, and refuses writes with no token configured', async () => {
    const nodes = await threeNodes('metrics');
    const text = await (await fetch(`${nodes[1]!.admin.url}/metrics`)).text();
    expect(text).toMatch(/^troupe_internode_frames_sent(_total)?\{node="b",class="raft"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^troupe_internode_nodes_up\{[^}]*\} 2$/m);
    const put = await fetch(`${nodes[0]!.admin.url}/v1/kv/s/k`, { method: 'PUT', body: 'v' });
    expect(put.status).toBe(401);
    expect(((await put.json()) as { error: { message: string } }).error.message).toMatch(/no token/);
  });
});

describe('admin option', () => {
  it('is off by default: cluster.admin is ERR_BAD_CONFIG', async () => {
    const c = await Cluster.start({ name: 'alone', logger: false });
    started.push(c);
    expect(() => c.admin).toThrow(/admin server is off/);
  });

  it('refuses a bad listen address or a short token, naming the option', async () => {
    for (const [admin, option] of [
      [{ listen: 'nope' }, 'admin.listen'],
      [{ listen: '127.0.0.1:70000' }, 'admin.listen'],
      [{ listen: '127.0.0.1:0', token: 'short' }, 'admin.token'],
    ] as const) {
      const error = await Cluster.start({ name: 'x', logger: false, admin }).catch((e: unknown) => e);
      expect(isTroupeError(error, 'ERR_BAD_CONFIG')).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });

  it('fails to start on a port in use with ERR_BAD_CONFIG, leaving nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await Cluster.start({
        name: 'busy',
        secret: SECRET,
        listen: '127.0.0.1:0',
        logger: false,
        admin: { listen: `127.0.0.1:${port}` },
      }).catch((e: unknown) => e);
      expect(isTroupeError(error, 'ERR_BAD_CONFIG')).toBe(true);
      expect((error as Error).message).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});
