// The eventual registry host over real WebSocket between three in-process nodes.
import { afterEach, describe, expect, it } from 'vitest';
import { Node, type Pid } from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { until } from '../internode/helpers.js';
import { EventualRegistry, isNameLost, type NameLostMessage, type WatchEvent } from '../../registry/index.js';

const SECRET = 'registry-host-test-secret';
type Member = { node: Node; net: Internode; reg: EventualRegistry };
const started: Member[] = [];

async function member(name: string, seeds: string[] = []): Promise<Member> {
  const node = await Node.start({ name, incarnation: 1 });
  const net = await Internode.start({ node, cluster: 'reg', secret: SECRET, listen: '127.0.0.1:0', seeds });
  const reg = EventualRegistry.start({
    node,
    internode: net,
    seed: name.charCodeAt(0),
    nodeDownGraceMs: 300,
    antiEntropyIntervalMs: 200,
  });
  const m = { node, net, reg };
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

const idle = (node: Node): Pid => node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'stop')));

afterEach(async () => {
  for (const m of started.splice(0)) {
    await m.reg.stop();
    await m.net.stop();
    await m.node.stop();
  }
});

describe('eventual registry host', () => {
  it('a name registered on one node is seen on the others, and sending by name reaches it', async () => {
    const [a, b, c] = await cluster();
    const got: unknown[] = [];
    const pid = a.node.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    a.reg.register('svc', pid);
    expect(a.reg.whereis('svc')).toEqual(pid);
    await until(() => b.reg.whereis('svc') !== undefined && c.reg.whereis('svc') !== undefined);
    expect(c.reg.whereis('svc')?.equals(pid)).toBe(true);
    c.reg.send('svc', 'hello from c');
    await until(() => got.length === 1);
    expect(got).toEqual(['hello from c']);
    expect(() => b.reg.register('svc', idle(b.node))).toThrow(expect.objectContaining({ code: 'ERR_NAME_TAKEN' }));
    expect(() => b.reg.send('nobody', 1)).toThrow(expect.objectContaining({ code: 'ERR_NO_SUCH_NAME' }));
  });

  it('a concurrent claim on two nodes resolves to the same owner everywhere, and the loser is told', async () => {
    const [a, b, c] = await cluster();
    const lost: NameLostMessage[] = [];
    const claimant = (m: Member): Pid =>
      m.node.spawn(async (ctx) => {
        lost.push((await ctx.receive(isNameLost)) as NameLostMessage);
        await ctx.receive((x) => x === 'stop');
      });
    const pb = claimant(b);
    const pc = claimant(c);
    // Both claims are made before either node hears of the other's.
    b.reg.register('leader', pb);
    c.reg.register('leader', pc);
    await until(
      () =>
        lost.length === 1 &&
        [a, b, c].every(
          (m) => m.reg.whereis('leader') !== undefined && m.reg.whereis('leader')!.equals(a.reg.whereis('leader')!),
        ),
    );
    const winner = a.reg.whereis('leader')!;
    const loser = winner.equals(pb) ? pc : pb;
    expect(lost[0]!.name).toBe('leader');
    expect(lost[0]!.winner.equals(winner)).toBe(true);
    expect([b, c].map((m) => m.reg.whereis('leader')!.toString())).toEqual([winner.toString(), winner.toString()]);
    expect(loser.equals(winner)).toBe(false);
  });

  it('a name dies with its process, and with its node after the grace; watchers see it in order', async () => {
    const [a, b, c] = await cluster();
    const events: string[] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const e of a.reg.watch({ signal: ac.signal })) events.push(`${(e as WatchEvent).kind} ${e.name}`);
    })();
    const pb = idle(b.node);
    b.reg.register('worker', pb);
    await until(() => a.reg.whereis('worker') !== undefined);
    const exited = b.node.exited(pb);
    b.node.send(pb, 'stop');
    await exited;
    await until(() => a.reg.whereis('worker') === undefined);
    const pc = idle(c.node);
    c.reg.register('cache', pc);
    await until(() => a.reg.whereis('cache') !== undefined);
    // c goes away without a word (its connections close): after the grace, its names go.
    await c.reg.stop();
    await c.net.stop();
    await until(() => a.reg.whereis('cache') === undefined);
    ac.abort();
    await watching;
    expect(events).toEqual(['register worker', 'unregister worker', 'register cache', 'unregister cache']);
    expect(() =>
      a.reg.register(
        'x',
        b.node.spawn(() => {}),
      ),
    ).toThrow();
  });
});
