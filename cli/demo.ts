// `troupe demo`: a local tour of the runtime — spawn, names, call, monitors, links, and a
// supervisor restarting a crashed child. Prints what happens, step by step.
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
    children: [{ id: 'counter', start: (ctx) => startServer(ctx, counter, undefined, { link: true, name: 'counter' }) }],
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
  await node.call('counter', { op: 'crash' }).catch((err: { code: string }) => out(`call to the crashing server failed with ${err.code}`));
  await observed;

  // 4. the supervisor restarted the child under the same name
  let restarted: Pid | undefined;
  for (let i = 0; i < 100 && (restarted === undefined || restarted.equals(firstPid)); i++) {
    await new Promise((r) => setImmediate(r));
    restarted = node.whereis('counter');
  }
  const children = await whichChildren(node, sup);
  out(`supervisor: restarted 'counter' as ${restarted?.toString()} (children: ${children.map((c) => c.id).join(', ')})`);
  out(`fresh state after restart: counter = ${await node.call<number>('counter', { op: 'get' })}`);

  const stats = node.stats();
  out(`stats: ${stats.processes} live, ${stats.spawned} spawned, ${stats.exited} exited`);
  await node.stop();
  out('node stopped: every process exited with shutdown');
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
