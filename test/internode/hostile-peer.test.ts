// A peer that knows the secret and completes the handshake, then misbehaves. A broken frame
// layer closes the connection with a reason (and is counted); a bad body in a good frame is
// counted and dropped while the connection lives on. No exception escapes, and the node keeps
// serving its other peers.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLOSE, CLASS_ID, dialerHandshake, encodeFrame, limits, signalToWire } from '../../internode/index.js';
import { Pid, RealClock, encode, isDown, type DownMessage } from '../../runtime/index.js';
import { seededRandom } from '../../runtime/base.js';
import { startMember, stopAll, until, waitFor, type Member } from './helpers.js';
import { crosses, identity, noEscapes, rawConnect, type RawPeer } from './raw-peer.js';

let a: Member;
let b: Member;
let nextMallory = 0;

beforeAll(async () => {
  a = await startMember('a');
  b = await startMember('b', { seeds: [a.net.address] });
  await waitFor(a.net, () => a.net.upNodes().includes('b'));
});
afterAll(async () => {
  await stopAll(b, a);
});

/** A raw connection to `a` that passed the real handshake with the right secret. */
async function mallory(): Promise<{ raw: RawPeer; name: string }> {
  const name = `mallory-${++nextMallory}`;
  const raw = await rawConnect(a.net.address);
  const r = await dialerHandshake(raw, identity(name), new RealClock());
  expect(r.peer.node).toBe('a');
  raw.detach();
  await until(() => a.net.upNodes().includes(name));
  return { raw, name };
}

const malformed = (key: string): number => a.net.stats().malformed[key] ?? 0;

function header(version: number, cls: number, length: number): Buffer {
  const h = Buffer.alloc(limits.FRAME_HEADER_BYTES);
  h[0] = version;
  h[1] = cls;
  h.writeUInt32BE(length, 2);
  return h;
}

/** a and b still talk both ways, and a still counts b as up. */
async function stillServing(): Promise<void> {
  expect(a.net.upNodes()).toContain('b');
  await crosses(b, a);
  await crosses(a, b);
}

describe('a broken frame layer closes the connection with a reason', () => {
  const good = encodeFrame('user', encode([0, null, new Pid('a', 1, 1), 'x']));
  const cases: [string, () => Buffer][] = [
    ['an empty message', () => Buffer.alloc(0)],
    ['a truncated header', () => good.subarray(0, 3)],
    ['a truncated body', () => good.subarray(0, good.length - 2)],
    ['a good frame followed by a truncated one', () => Buffer.concat([good, good.subarray(0, 8)])],
    [
      'a huge declared length',
      () => Buffer.concat([header(limits.PROTOCOL_VERSION, CLASS_ID.user, 0xfffffff0), Buffer.alloc(16)]),
    ],
    [
      'a declared length one past the limit',
      () => header(limits.PROTOCOL_VERSION, CLASS_ID.raft, limits.MAX_FRAME_BODY_BYTES + 1),
    ],
    [
      'a wrong version byte',
      () => Buffer.concat([header(limits.PROTOCOL_VERSION + 1, CLASS_ID.user, 1), Buffer.from([0xc0])]),
    ],
    ['an unknown class byte', () => Buffer.concat([header(limits.PROTOCOL_VERSION, 200, 1), Buffer.from([0xc0])])],
  ];

  it.each(cases)(
    '%s: closed with "protocol error", counted, nothing escapes, the node serves on',
    async (_what, message) => {
      const before = malformed('frame');
      const { escaped } = await noEscapes(async () => {
        const { raw } = await mallory();
        raw.send(message());
        const closed = await raw.closed;
        expect(closed.code).toBe(CLOSE.protocolError.code);
        expect(closed.reason).toMatch(/^protocol error: /);
      });
      expect(escaped).toEqual([]);
      expect(malformed('frame')).toBe(before + 1);
      await stillServing();
    },
  );

  it('random bytes (seeded) close the connection with a reason every time; nothing escapes', async () => {
    const random = seededRandom(20261122);
    const { escaped } = await noEscapes(async () => {
      for (let i = 0; i < 12; i++) {
        const bytes = Buffer.alloc(1 + random.int(200));
        for (let j = 0; j < bytes.length; j++) bytes[j] = random.int(256);
        if (bytes[0] === limits.PROTOCOL_VERSION) bytes[0] = 0xee; // random, but never a valid frame by chance
        const { raw } = await mallory();
        raw.send(bytes);
        const closed = await raw.closed;
        expect(closed.code).toBe(CLOSE.protocolError.code);
        expect(closed.reason).toMatch(/^protocol error: /);
      }
    });
    expect(escaped).toEqual([]);
    await stillServing();
  });

  it('a text message: closed with "protocol error", and counted', async () => {
    const texts = a.net.stats().transportRefusals['text-message'];
    const { raw } = await mallory();
    raw.sendText('hello?');
    const closed = await raw.closed;
    expect(closed.code).toBe(CLOSE.protocolError.code);
    expect(closed.reason).toMatch(/^protocol error/);
    expect(a.net.stats().transportRefusals['text-message']).toBe(texts + 1);
    await stillServing();
  });

  it('a message over MAX_WS_MESSAGE_BYTES after the handshake: closed with 1009, and counted', async () => {
    const tooBig = a.net.stats().transportRefusals['message-too-big'];
    const { raw } = await mallory();
    raw.send(Buffer.alloc(limits.MAX_WS_MESSAGE_BYTES + 1));
    expect((await raw.closed).code).toBe(1009);
    await until(() => a.net.stats().transportRefusals['message-too-big'] === tooBig + 1);
    await stillServing();
  });
});

describe('what a received message may cost', () => {
  it('a body with bytes after its value is refused at O(1) cost: the value is never rendered', async () => {
    const { raw } = await mallory();
    const before = malformed('user-body');
    const big = encode([0, null, new Pid('a', 1, 1), { rows: Array.from({ length: 50_000 }, (_, i) => ({ i })) }]);
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      raw.send(encodeFrame('user', Buffer.concat([big, Buffer.from([0xc0])])));
      await until(() => malformed('user-body') === before + 1);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
    expect(raw.isOpen).toBe(true);
    raw.close(1000, 'bye');
  });

  it('a small binary that came in a large message does not keep the whole message alive', async () => {
    const { raw } = await mallory();
    let got!: (v: unknown) => void;
    const received = new Promise<unknown>((r) => (got = r));
    const victim = a.node.spawn(async (ctx) => got(await ctx.receive()));
    const padding = encodeFrame('registry', Buffer.alloc(3 * 1024 * 1024)); // one large message around it
    const small = encodeFrame('user', encode([0, null, victim, Buffer.from([42])]));
    raw.send(Buffer.concat([padding, small]));
    const value = (await received) as Uint8Array;
    expect([...value]).toEqual([42]);
    expect(value.buffer.byteLength).toBeLessThanOrEqual(limits.COPY_OUT_OF_BUFFERS_OVER_BYTES);
    raw.close(1000, 'bye');
  });
});

describe('a bad body in a good frame is counted and dropped; the connection lives on', () => {
  /** Spawns a process on `a` that records what it receives (and exits on 'stop'). */
  function inboxOnA(): { pid: Pid; got: unknown[] } {
    const got: unknown[] = [];
    const pid = a.node.spawn(async (ctx) => {
      for (;;) {
        const m = await ctx.receive();
        got.push(m);
        if (m === 'stop') return;
      }
    });
    return { pid, got };
  }

  it('bad pids, spoofed senders, foreign pids, bad control, unhandled classes: counted, none acted on', async () => {
    const { raw, name } = await mallory();
    const victim = inboxOnA();
    const bPid = b.node.spawn(async (ctx) => void (await ctx.receive()));
    // The pid extension as msgpackr writes it (fixext1 0x50, then the packed fields), with bad fields.
    const badPid = Buffer.concat([Buffer.from([0xd4, 0x50, 0x00]), encode(['', -5, 1])]);
    const user = (body: unknown): Buffer => encodeFrame('user', encode(body));
    const before = { ...a.net.stats().malformed };
    const sent: [Buffer, string][] = [
      [encodeFrame('user', Buffer.from([0x92, 0x01])), 'user-body'], // truncated msgpack
      [
        encodeFrame('user', Buffer.concat([Buffer.from([0x94, 0x00]), badPid, encode(victim.pid), encode('x')])),
        'user-body',
      ], // a pid that fails to parse
      [user([0, 'not-a-pid', victim.pid, 'x']), 'user-shape'],
      [user([0, null, 'a<0.1.1>', 'x']), 'user-shape'],
      [user([0, null, victim.pid]), 'user-shape'],
      [user([99, null, victim.pid, 'x']), 'user-shape'],
      [user('just a string'), 'user-shape'],
      [user([0, bPid, victim.pid, 'spoofed from b']), 'user-spoofed-sender'],
      [user([7, bPid, victim.pid, 'kill', false]), 'user-spoofed-sender'], // an exit in b's name
      [user([2, bPid, victim.pid, 'ref-1']), 'user-spoofed-sender'], // a monitor in b's name
      [user([0, null, bPid, 'relay me to b']), 'user-not-for-us'],
      [user([5, new Pid(name, 1, 1), bPid]), 'user-not-for-us'], // a link to b's process
      [encodeFrame('control', encode(42)), 'control-shape'],
      [encodeFrame('control', encode(['members', 'everyone'])), 'control-members'],
      [encodeFrame('control', encode(['members', [['bad name!', '127.0.0.1:1', 1]]])), 'control-member'],
      [encodeFrame('control', encode(['members', [['z', '127.0.0.1:1', -3]]])), 'control-member'],
      [encodeFrame('control', encode(['take-over'])), 'control-unknown'],
      [encodeFrame('raft', encode({ term: 1 })), 'raft-unhandled'],
    ];
    const expected: Record<string, number> = {};
    for (const [, key] of sent) expected[key] = (expected[key] ?? before[key] ?? 0) + 1;
    const { escaped } = await noEscapes(async () => {
      // Half as single messages, half coalesced into one message, as the write loop would.
      const half = Math.floor(sent.length / 2);
      for (const [frame] of sent.slice(0, half)) raw.send(frame);
      raw.send(Buffer.concat(sent.slice(half).map(([f]) => f)));
      // A good frame after all that is still delivered: the connection lives on.
      raw.send(
        encodeFrame(
          'user',
          encode(signalToWire({ op: 'send', from: undefined, to: victim.pid, message: 'hello from mallory' })),
        ),
      );
      await until(() => victim.got.length === 1);
    });
    expect(escaped).toEqual([]);
    expect(victim.got).toEqual(['hello from mallory']);
    const after = a.net.stats().malformed;
    for (const [key, n] of Object.entries(expected)) expect({ key, n: after[key] ?? 0 }).toEqual({ key, n });
    expect(after.frame ?? 0).toBe(before.frame ?? 0);
    expect(raw.isOpen).toBe(true);
    // The spoofed exit did not kill the victim, the spoofed monitor holds nothing, b got nothing relayed.
    expect(a.node.processInfo(victim.pid)?.monitoredBy).toBe(0);
    expect(b.node.processInfo(bPid)?.mailboxLength).toBe(0);
    a.node.send(victim.pid, 'stop');
    await a.node.exited(victim.pid);
    raw.close(1000, 'bye');
    await stillServing();
  });

  it('arbitrary msgpack values in user and control frames never escape and never close the connection', async () => {
    const { raw } = await mallory();
    const victim = inboxOnA();
    const values = fc.sample(fc.anything({ maxDepth: 3, withBigInt: false }), { numRuns: 300, seed: 42 });
    const frames: Buffer[] = [];
    for (const v of values) {
      let body: Buffer;
      try {
        body = encode(v);
      } catch {
        continue; // not every JS value has a msgpack form; that is the sender's problem
      }
      frames.push(
        encodeFrame('user', body),
        encodeFrame('control', body),
        encodeFrame('user', encode([0, null, victim.pid, v])),
      );
    }
    const { escaped } = await noEscapes(async () => {
      for (let i = 0; i < frames.length; i += 50) raw.send(Buffer.concat(frames.slice(i, i + 50)));
      raw.send(encodeFrame('user', encode([0, null, victim.pid, 'stop'])));
      await a.node.exited(victim.pid);
    });
    expect(escaped).toEqual([]);
    expect(raw.isOpen).toBe(true);
    expect(victim.got.at(-1)).toBe('stop');
    raw.close(1000, 'bye');
    await stillServing();
  });

  it('a remote monitor from a well-behaved peer still works after the hostile traffic', async () => {
    const target = a.node.spawn(async (ctx) => void (await ctx.receive()));
    const reasons: unknown[] = [];
    const watcher = b.node.spawn(async (ctx) => {
      ctx.monitor(target);
      ctx.send(target, 'go');
      reasons.push(((await ctx.receive(isDown)) as DownMessage).reason);
    });
    await b.node.exited(watcher);
    expect(reasons).toEqual(['normal']);
  });
});
