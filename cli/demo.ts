// `troupe demo`: a tour of troupe, printed step by step. First the runtime on one node (spawn,
// names, call, monitors, links, a supervisor restarting a crashed child), then a local cluster of
// three nodes over real WebSocket connections on loopback (process groups, broadcast, the
// eventual name registry with a conflict, the KV store on Raft, a node leaving and the KV store
// going on without it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNameLost, type NameLostMessage } from '../registry/index.js';
import { Cluster } from '../system/index.js';
import {
  Node,
  isDown,
  isExit,
  startServer,
  startSupervisor,
  whichChildren,
  type DownMessage,
  type ExitMessage,
  type Pid,
  type ServerBehaviour,
} from '../runtime/index.js';

type CounterRequest = { op: 'incr' } | { op: 'get' } | { op: 'crash' };

const counter: ServerBehaviour<number, void, CounterRequest, number> = {
  init: () => 0,
  handleCall(req, _from, n) {
    if (req.op === 'incr') return { reply: n + 1, state: n + 1 };
    if (req.op === 'get') return { reply: n, state: n };
    throw new Error('counter asked to crash');
  },
};

export async function runDemo(out: (line: string) => void = (l) => console.log(l)): Promise<void> {
  out('== one node: processes, names, monitors, links, supervision');
  await runtimeTour(out);
  out('');
  out('== a cluster of three nodes on loopback: groups, broadcast, names');
  await clusterTour(out);
}

async function runtimeTour(out: (line: string) => void): Promise<void> {
  await using node = await Node.start({ name: 'demo' });
  out(`node ${node.name} started (incarnation ${node.incarnation})`);

  // 1. spawn + send + receive
  const greeter = node.spawn(async (ctx) => {
    const { from, name } = (await ctx.receive()) as { from: Pid; name: string };
    ctx.send(from, `hello, ${name}`);
  });
  const answer = await node.call<string>(
    node.spawn(async (ctx) => {
      const req = (await ctx.receive()) as { type: '$call'; from: { pid: Pid; ref: string } };
      ctx.send(greeter, { from: ctx.self, name: 'troupe' });
      ctx.reply(req.from, await ctx.receive());
    }),
    'go',
  );
  out(`spawn/send/receive: ${greeter.toString()} answered "${answer}"`);

  // 2. a supervised, named server
  const sup = await startSupervisor(node, {
    strategy: 'one_for_one',
    intensity: 3,
    periodMs: 5_000,
    children: [
      { id: 'counter', start: (ctx) => startServer(ctx, counter, undefined, { link: true, name: 'counter' }) },
    ],
  });
  await node.call('counter', { op: 'incr' });
  const two = await node.call<number>('counter', { op: 'incr' });
  const firstPid = node.whereis('counter')!;
  out(`names + call: 'counter' is ${firstPid.toString()}, counted to ${two}`);

  // 3. monitors and links observe the crash
  const observer = node.spawn(
    async (ctx) => {
      ctx.monitor(firstPid);
      ctx.link(firstPid);
      const down = (await ctx.receive(isDown)) as DownMessage;
      const exit = (await ctx.receive(isExit)) as ExitMessage;
      out(`monitor: DOWN from ${down.pid.toString()}, reason "${reasonText(down.reason)}"`);
      out(`link (trapping exits): EXIT from ${exit.from?.toString()}, reason "${reasonText(exit.reason)}"`);
    },
    { trapExit: true },
  );
  await new Promise((r) => setImmediate(r));
  const observed = node.exited(observer);
  await node
    .call('counter', { op: 'crash' })
    .catch((err: { code: string }) => out(`call to the crashing server failed with ${err.code}`));
  await observed;

  // 4. the supervisor restarted the child under the same name
  let restarted: Pid | undefined;
  for (let i = 0; i < 100 && (restarted === undefined || restarted.equals(firstPid)); i++) {
    await new Promise((r) => setImmediate(r));
    restarted = node.whereis('counter');
  }
  const children = await whichChildren(node, sup);
  out(
    `supervisor: restarted 'counter' as ${restarted?.toString()} (children: ${children.map((c) => c.id).join(', ')})`,
  );
  out(`fresh state after restart: counter = ${await node.call<number>('counter', { op: 'get' })}`);

  const stats = node.stats();
  out(`stats: ${stats.processes} live, ${stats.spawned} spawned, ${stats.exited} exited`);
  await node.stop();
  out('node stopped: every process exited with shutdown');
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

async function startMember(name: string, secret: Buffer, seeds: string[], dataDir: string): Promise<Cluster> {
  return Cluster.start({
    name,
    cluster: 'demo',
    secret,
    listen: '127.0.0.1:0',
    seeds,
    logger: false,
    eventual: { nodeDownGraceMs: 200 },
    // The Raft host (the KV store's log on LMDB, fsync on); a, b and c found it together.
    raft: { dataDir: join(dataDir, name), voters: ['a', 'b', 'c'] },
  });
}

/** Waits for a condition the cluster will reach by itself, checking between turns of the event loop (bounded). */
async function eventually(what: string, predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`demo: ${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function clusterTour(out: (line: string) => void): Promise<void> {
  const secret = randomBytes(32); // the shared cluster secret; real nodes read it from a file
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-demo-'));
  const a = await startMember('a', secret, [], dataDir);
  const b = await startMember('b', secret, [a.address!], dataDir);
  const c = await startMember('c', secret, [a.address!], dataDir);
  const all = [a, b, c];
  try {
    const t0 = Date.now();
    await Promise.all(all.map((m) => m.ready({ nodes: 3, timeout: 10_000 })));
    out(`cluster formed in ${Date.now() - t0} ms: a (${a.address}) was the seed; b and c found each other through it`);

    // Process groups: two workers per node join 'workers'; they answer jobs with their node name.
    const answers: string[] = [];
    const collector = a.node.spawn(async (ctx) => {
      for (;;) answers.push(String(await ctx.receive()));
    });
    for (const m of all) {
      for (let i = 0; i < 2; i++) {
        const worker = m.node.spawn(async (ctx) => {
          for (;;) {
            const job = (await ctx.receive()) as { job: string; replyTo: Pid };
            ctx.send(job.replyTo, `${m.node.name} did ${job.job}`);
          }
        });
        m.pg.join('workers', worker);
      }
    }
    const monitor = a.pg.monitor('workers');
    await eventually('group propagation', () => all.every((m) => m.pg.members('workers').length === 6));
    out(
      `pg: 'workers' has ${c.pg.members('workers').length} members seen from c; ` +
        `${c.pg.localMembers('workers').length} of them are local to c`,
    );
    const sent = b.pg.broadcast('workers', { job: 'job-1', replyTo: collector });
    await eventually('the broadcast answers', () => answers.length === 6);
    out(`pg: a broadcast from b reached ${sent} workers; answers: ${[...new Set(answers)].sort().join(', ')}`);

    // The eventual registry: a name registered on b is seen everywhere.
    const leader = b.node.spawn(async (ctx) => {
      for (;;) {
        const m = await ctx.receive();
        if (isNameLost(m)) continue;
        answers.push(`leader got ${String(m)}`);
      }
    });
    b.eventual.register('leader', leader);
    await eventually(
      'name propagation',
      () => a.eventual.whereis('leader') !== undefined && c.eventual.whereis('leader') !== undefined,
    );
    c.eventual.send('leader', 'hello from c');
    await eventually('the named send', () => answers.includes('leader got hello from c'));
    out(
      `registry: 'leader' registered on b is ${c.eventual.whereis('leader')?.toString()} as seen from c; ` +
        'c sent it a message by name',
    );

    // Two nodes claim one name at once: every node settles on the same owner; the loser is told.
    const lost: NameLostMessage[] = [];
    const claimant = (m: Cluster): Pid =>
      m.node.spawn(async (ctx) => {
        lost.push((await ctx.receive(isNameLost)) as NameLostMessage);
      });
    a.eventual.register('config', claimant(a));
    c.eventual.register('config', claimant(c));
    await eventually(
      'conflict resolution',
      () => lost.length === 1 && all.every((m) => m.eventual.whereis('config')?.equals(a.eventual.whereis('config')!)),
    );
    out(
      `registry: a and c both claimed 'config'; all nodes agree on ${a.eventual.whereis('config')?.toString()}, ` +
        'and the other claimant was told it lost',
    );

    // The KV store: a Raft group on every node; writes from anywhere, linearizable reads, watches.
    const settings = b.kv.space('settings');
    const watch = settings.watch({ prefix: 'feature/' });
    const put = await a.kv.space('settings').put('feature/dark-mode', 'on');
    const read = await c.kv.space('settings').get('feature/dark-mode');
    const swapped = await c.kv.space('settings').cas('feature/dark-mode', { value: 'on' }, 'off');
    const seen: string[] = [];
    for await (const e of watch) {
      seen.push(`${e.key}=${String(e.kv?.value)}@${e.revision}`);
      if (seen.length === 2) break;
    }
    out(
      `kv: put on a at revision ${put.revision}; c read ${String(read.kv?.value)} (linearizable); ` +
        `c's cas on to off ${swapped.ok ? 'succeeded' : 'failed'}; b watched ${seen.join(', ')}`,
    );

    // c leaves: its workers leave the group (one event for its whole block), its names go after the grace.
    const events: string[] = [];
    const reading = (async () => {
      for await (const e of monitor)
        if (e.kind === 'leave') events.push(`one leave event carrying ${e.pids.length} pids`);
    })();
    await c.stop();
    await eventually('c leaving', () => a.pg.members('workers').length === 4 && b.pg.members('workers').length === 4);
    monitor.demonitor();
    await reading;
    out(
      `c left: a and b see ${a.internode.upNodes().length} peer each; ` +
        `'workers' lost c's block (${events.join(', ')}); ${a.pg.members('workers').length} members remain`,
    );
    // Two of three voters are a majority: the KV store goes on without c.
    const after = await b.kv.space('settings').put('feature/beta', 'yes', { timeout: 10_000 });
    const back = await a.kv.space('settings').get('feature/beta');
    out(`kv without c: b wrote feature/beta at revision ${after.revision}; a reads ${String(back.kv?.value)}`);
  } finally {
    for (const m of all) await m.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  out('cluster stopped');
}
