// pg.broadcast keeps the message contract: a value that is not a message throws at the sender
// before any member (local or remote) gets it — remote members are never skipped silently.
import { afterEach, describe, expect, it } from 'vitest';
import { Node, UnserializableError, isTroupeError, limits, type Pid } from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { ProcessGroups } from '../../pg/index.js';
import { until } from '../internode/helpers.js';
import { spawnProbe, type Probe } from '../runtime/helpers.js';

const SECRET = 'pg-contract-test-secret-0123';
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

afterEach(async () => {
  for (const m of started.splice(0).reverse()) {
    await m.pg.stop();
    await m.net.stop();
    await m.node.stop();
  }
});

const ids = (pids: readonly Pid[]): string[] => pids.map((p) => p.toString()).sort();

describe('pg.broadcast and the message contract', () => {
  it('refuses a value that is not a message before any member, local or remote, gets it', async () => {
    const a = await member('a');
    const b = await member('b', [a.net.address]);
    await until(() => a.net.upNodes().includes('b') && b.net.upNodes().includes('a'));
    const local: Probe = spawnProbe(a.node);
    const remote: Probe = spawnProbe(b.node);
    a.pg.join('g', local.pid);
    b.pg.join('g', remote.pid);
    await until(() => a.pg.members('g').length === 2);
    expect(ids(a.pg.members('g'))).toEqual(ids([local.pid, remote.pid]));

    let caught: unknown;
    try {
      a.pg.broadcast('g', { job: 1, done: () => 'callback' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnserializableError);
    expect(isTroupeError(caught, 'ERR_UNSERIALIZABLE')).toBe(true);
    expect((caught as UnserializableError).path).toBe('msg.done');
    expect(() => a.pg.broadcastLocal('g', [1, Symbol('s')])).toThrow(expect.objectContaining({ path: 'msg[1]' }));
    // Too large for the wire is too large for everyone: refused before the local member gets it.
    const over = Buffer.alloc(limits.MAX_MESSAGE_BYTES, 1);
    expect(() => a.pg.broadcast('g', over)).toThrow(expect.objectContaining({ code: 'ERR_LIMIT' }));

    // Nothing was half-sent: the next broadcast is the first thing each member sees.
    expect(a.pg.broadcast('g', { job: 2, ok: new Map([['n', 2n]]) })).toBe(2);
    expect(await local.next()).toEqual({ job: 2, ok: new Map([['n', 2n]]) });
    expect(await remote.next()).toEqual({ job: 2, ok: new Map([['n', 2n]]) });
  });
});
