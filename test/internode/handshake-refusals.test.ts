// A handshake that is wrong in any way is refused with the close code and reason from CLOSE,
// counted, and tells the refused side nothing but that reason; the node keeps serving the
// peers it has.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLOSE,
  HandshakeError,
  MemoryNetwork,
  acceptorHandshake,
  dialerHandshake,
  limits,
  type Connection,
  type LocalIdentity,
  Internode,
} from '../../internode/index.js';
import type { HandshakeResult } from '../../internode/handshake.js';
import { Node, VirtualClock, decode, encode, type Clock } from '../../runtime/index.js';
import { SECRET, startMember, stopAll, until, waitFor, type Member } from './helpers.js';
import { crosses, identity, noEscapes, rawConnect, type Closed, type RawPeer } from './raw-peer.js';

type Refusal = { code: number; reason: string };

/** A connection's view from a test: what arrived, and how it closed. */
function watch(conn: Connection): { received: unknown[]; closed: Promise<Closed> } {
  const received: unknown[] = [];
  let done!: (c: Closed) => void;
  const closed = new Promise<Closed>((r) => (done = r));
  conn.setHandlers({ message: (d) => received.push(decode(d)), close: (code, reason) => done({ code, reason }) });
  return { received, closed };
}

async function refusedWith(p: Promise<unknown>, close: Refusal): Promise<void> {
  const err = await p.then(
    () => {
      throw new Error('the handshake succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HandshakeError);
  expect((err as HandshakeError).closeCode).toBe(close.code);
  if (close.code === TOO_BIG.code) expect((err as HandshakeError).refusal).toBe('closed');
  else expect((err as HandshakeError).message.split(':')[0]).toBe(close.reason);
}

/** A listener on an in-memory network that runs the acceptor handshake on every connection. */
async function memoryAcceptor(
  net: MemoryNetwork,
  local: LocalIdentity,
  clock: Clock,
): Promise<Promise<HandshakeResult>[]> {
  const results: Promise<HandshakeResult>[] = [];
  await net.transport(local.address).listen(local.address, (conn) => {
    const r = acceptorHandshake(conn, local, clock);
    r.catch(() => {});
    results.push(r);
  });
  return results;
}

/** The transport's own close for a message over its limit (before authentication: a handshake message). */
const TOO_BIG = { code: 1009, reason: 'message too big' };

/** An auth message with a proof made without the secret. */
const auth = (over: Record<string, unknown> = {}): Buffer =>
  encode({ t: 'auth', node: 'mallory', inc: 1, addr: '', proof: randomBytes(32), ...over });

const hello = (over: Record<string, unknown> = {}): Buffer =>
  encode({
    t: 'hello',
    v: limits.PROTOCOL_VERSION,
    cluster: 'test',
    node: 'mallory',
    inc: 1,
    addr: '',
    nonce: randomBytes(limits.NONCE_BYTES),
    ...over,
  });

describe('handshake over the in-memory transport (virtual clock)', () => {
  it('completes with the right secret, cluster and version: each side learns the other identity', async () => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const acc = await memoryAcceptor(net, identity('acc', { address: 'acc', incarnation: 7 }), clock);
    const conn = await net.transport('dial').dial('acc');
    const dialed = await dialerHandshake(conn, identity('dialer', { incarnation: 3 }), clock);
    expect(dialed.peer).toEqual({ node: 'acc', incarnation: 7, address: 'acc' });
    expect((await acc[0]!).peer).toEqual({ node: 'dialer', incarnation: 3, address: '' });
  });

  it('refuses a wrong secret on both sides with "authentication failed" (4003)', async () => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const acc = await memoryAcceptor(net, identity('acc', { address: 'acc' }), clock);
    const conn = await net.transport('dial').dial('acc');
    const dialer = dialerHandshake(
      conn,
      identity('dialer', { secret: Buffer.from('another-secret-of-16-bytes!') }),
      clock,
    );
    await refusedWith(dialer, CLOSE.authFailed);
    await refusedWith(acc[0]!, CLOSE.authFailed);
  });

  it('refuses a dialer whose proof is wrong; the dialer got a bare nonce and then only the reason', async () => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const acc = await memoryAcceptor(net, identity('acc', { address: 'acc' }), clock);
    const conn = await net.transport('dial').dial('acc');
    const seen = watch(conn);
    conn.send(hello());
    await until(() => seen.received.length === 1);
    // The challenge is a fresh nonce and nothing else: no name, no incarnation, no proof.
    expect(seen.received[0]).toMatchObject({ t: 'challenge' });
    expect(Object.keys(seen.received[0] as object).sort()).toEqual(['nonce', 't']);
    conn.send(auth());
    expect(await seen.closed).toEqual(CLOSE.authFailed);
    expect(seen.received).toHaveLength(1); // no welcome, no detail
    await refusedWith(acc[0]!, CLOSE.authFailed);
  });

  const authRefusals: [string, LocalIdentity, Refusal][] = [
    ['its own node name', identity('acc'), CLOSE.selfConnection],
    ['a bad node name', identity('no spaces allowed'), CLOSE.protocolError],
    ['a negative incarnation', identity('x', { incarnation: -1 }), CLOSE.protocolError],
  ];

  it.each(authRefusals)(
    'refuses a dialer that knows the secret but presents %s; before that it revealed only a nonce',
    async (_what, dialer, close) => {
      const net = new MemoryNetwork();
      const clock = new VirtualClock();
      const acc = await memoryAcceptor(net, identity('acc', { address: 'acc' }), clock);
      const conn = await net.transport('dial').dial('acc');
      const sent: Buffer[] = [];
      const spy: Connection = {
        ...conn,
        get remoteAddress() {
          return conn.remoteAddress;
        },
        get bufferedAmount() {
          return conn.bufferedAmount;
        },
        get closed() {
          return conn.closed;
        },
        send: (d, f) => conn.send(d, f),
        close: (c, r) => conn.close(c, r),
        authenticated: (b) => conn.authenticated(b),
        setHandlers: (h) =>
          conn.setHandlers({ message: (d) => (sent.push(d), h.message(d)), close: (c, r) => h.close(c, r) }),
      };
      await refusedWith(dialerHandshake(spy, dialer, clock), close);
      expect(sent.map((d) => Object.keys(decode(d) as object).sort())).toEqual([['nonce', 't']]);
      await refusedWith(acc[0]!, close);
    },
  );

  const refusals: [string, () => Buffer, Refusal][] = [
    ['another protocol version', () => hello({ v: limits.PROTOCOL_VERSION + 1 }), CLOSE.versionMismatch],
    ['another cluster', () => hello({ cluster: 'other' }), CLOSE.clusterMismatch],
    ['a short nonce', () => hello({ nonce: randomBytes(4) }), CLOSE.protocolError],
    [
      'a cluster name over the limit',
      () => hello({ cluster: 'x'.repeat(limits.MAX_CLUSTER_NAME_LENGTH + 1) }),
      CLOSE.protocolError,
    ],
    ['a response before the hello', () => encode({ t: 'response', proof: randomBytes(32) }), CLOSE.protocolError],
    ['a message that is not a map', () => encode([1, 2, 3]), CLOSE.protocolError],
    ['an auth before the hello', () => auth(), CLOSE.protocolError],
    ['a welcome before the hello', () => encode({ t: 'welcome', node: 'x', inc: 1, addr: '' }), CLOSE.protocolError],
    ['a hello without a nonce', () => hello({ nonce: undefined }), CLOSE.protocolError],
    ['bytes that are not msgpack', () => Buffer.from([0xc1, 0xc1, 0xc1]), CLOSE.protocolError],
    // Before authentication the transport takes no message larger than a handshake message.
    ['a message over the handshake limit', () => Buffer.alloc(limits.MAX_HANDSHAKE_BYTES + 1, 0xa0), TOO_BIG],
  ];

  it.each(refusals)('refuses a hello with %s, before sending anything', async (_what, message, close) => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const acc = await memoryAcceptor(net, identity('acc', { address: 'acc' }), clock);
    const conn = await net.transport('dial').dial('acc');
    const seen = watch(conn);
    conn.send(message());
    expect(await seen.closed).toEqual(close); // the bare reason, no detail
    expect(seen.received).toEqual([]);
    await refusedWith(acc[0]!, close);
  });

  it('times out a peer that never speaks after HANDSHAKE_TIMEOUT_MS, and not before', async () => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const acc = await memoryAcceptor(net, identity('acc', { address: 'acc' }), clock);
    const conn = await net.transport('dial').dial('acc');
    const seen = watch(conn);
    let settled = false;
    acc[0]!.then(
      () => (settled = true),
      () => (settled = true),
    );
    await clock.advance(limits.HANDSHAKE_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await clock.advance(1);
    await refusedWith(acc[0]!, CLOSE.handshakeTimeout);
    expect(await seen.closed).toEqual(CLOSE.handshakeTimeout);
  });

  it('times out a dialer whose acceptor never answers', async () => {
    const net = new MemoryNetwork();
    const clock = new VirtualClock();
    const accepted: Connection[] = [];
    await net.transport('acc').listen('acc', (c) => accepted.push(c));
    const conn = await net.transport('dial').dial('acc');
    const dialer = dialerHandshake(conn, identity('dialer'), clock);
    dialer.catch(() => {});
    await clock.advance(limits.HANDSHAKE_TIMEOUT_MS);
    await refusedWith(dialer, CLOSE.handshakeTimeout);
  });
});

describe('handshake refusals between real nodes over WebSocket', () => {
  let a: Member;
  let b: Member;
  beforeAll(async () => {
    a = await startMember('a');
    b = await startMember('b', { seeds: [a.net.address] });
    await waitFor(a.net, () => a.net.upNodes().includes('b'));
  });
  afterAll(async () => {
    await stopAll(b, a);
  });

  const refusalsOf = (m: Member, reason: string): number => m.net.stats().handshakeRefusals[reason] ?? 0;

  it('a node with another secret is refused and counted on both sides; it learns no member', async () => {
    const before = refusalsOf(a, CLOSE.authFailed.reason);
    const c = await startMember('c', { seeds: [a.net.address], secret: 'a-different-secret-16+bytes' });
    try {
      await until(() => refusalsOf(a, CLOSE.authFailed.reason) > before && refusalsOf(c, CLOSE.authFailed.reason) > 0);
      expect(c.net.upNodes()).toEqual([]);
      expect(c.net.members()).toEqual([]);
      expect(a.net.upNodes()).toEqual(['b']);
      await crosses(b, a);
      await crosses(a, b);
    } finally {
      await stopAll(c);
    }
  });

  it('a node of another cluster is refused with "cluster mismatch", counted on both sides', async () => {
    const before = refusalsOf(a, CLOSE.clusterMismatch.reason);
    const d = await startMember('d', { seeds: [a.net.address], cluster: 'other' });
    try {
      await until(
        () => refusalsOf(a, CLOSE.clusterMismatch.reason) > before && refusalsOf(d, CLOSE.clusterMismatch.reason) > 0,
      );
      expect(d.net.members()).toEqual([]);
      expect(a.net.upNodes()).toEqual(['b']);
      await crosses(b, a);
    } finally {
      await stopAll(d);
    }
  });

  const byHand: [string, (raw: RawPeer) => void, Refusal][] = [
    ['a wrong version', (raw) => raw.send(hello({ v: 99 })), CLOSE.versionMismatch],
    ['another cluster', (raw) => raw.send(hello({ cluster: 'elsewhere' })), CLOSE.clusterMismatch],
    ['garbage bytes', (raw) => raw.send(Buffer.from([0xc1, 0xff, 0x00, 0x13])), CLOSE.protocolError],
    ['an oversized handshake message', (raw) => raw.send(Buffer.alloc(limits.MAX_HANDSHAKE_BYTES + 1)), TOO_BIG],
    ['a text message', (raw) => raw.sendText('{"t":"hello"}'), CLOSE.protocolError],
  ];

  it.each(byHand)(
    'a raw client sending %s is refused with the CLOSE code, counted, and told nothing else',
    async (_what, act, close) => {
      const { escaped } = await noEscapes(async () => {
        // A message over the limit is the transport's refusal (1009), counted there and as a closed handshake.
        const counted = close === TOO_BIG ? 'connection closed' : close.reason;
        const before = refusalsOf(a, counted);
        const tooBig = a.net.stats().transportRefusals['message-too-big'];
        const raw = await rawConnect(a.net.address);
        act(raw);
        const closed = await raw.closed;
        expect(closed.code).toBe(close.code);
        if (close !== TOO_BIG) expect(closed.reason.split(':')[0]).toBe(close.reason);
        expect(raw.received).toEqual([]);
        expect(raw.texts).toEqual([]);
        await until(() => refusalsOf(a, counted) === before + 1);
        if (close === TOO_BIG) expect(a.net.stats().transportRefusals['message-too-big']).toBe(tooBig + 1);
      });
      expect(escaped).toEqual([]);
      expect(a.net.upNodes()).toEqual(['b']);
      await crosses(b, a);
    },
  );

  it('a raw client with a wrong proof gets a bare nonce, then only "authentication failed"', async () => {
    const before = refusalsOf(a, CLOSE.authFailed.reason);
    const raw = await rawConnect(a.net.address);
    raw.send(hello());
    await until(() => raw.received.length === 1);
    expect(decode(raw.received[0]!)).toMatchObject({ t: 'challenge' });
    expect(Object.keys(decode(raw.received[0]!) as object).sort()).toEqual(['nonce', 't']);
    raw.send(auth());
    expect(await raw.closed).toEqual(CLOSE.authFailed);
    expect(raw.received).toHaveLength(1);
    await until(() => refusalsOf(a, CLOSE.authFailed.reason) === before + 1);
    expect(a.net.members().map((m) => m.node)).toEqual(['b']);
    await crosses(b, a);
  });
});

describe('handshake timeout at a real node', () => {
  it('a silent raw client is closed with "handshake timeout" (4004) once the node clock passes the limit', async () => {
    const clock = new VirtualClock();
    const node = await Node.start({ name: 'v', incarnation: 1, clock });
    const net = await Internode.start({ node, cluster: 'test', secret: SECRET, listen: '127.0.0.1:0' });
    try {
      const raw = await rawConnect(net.address);
      await clock.advance(limits.HANDSHAKE_TIMEOUT_MS - 1);
      expect(raw.isOpen).toBe(true);
      await clock.advance(1);
      expect(await raw.closed).toEqual(CLOSE.handshakeTimeout);
      expect(raw.received).toEqual([]);
      await until(() => net.stats().handshakeRefusals[CLOSE.handshakeTimeout.reason] === 1);
    } finally {
      await net.stop();
      await node.stop();
    }
  });
});
