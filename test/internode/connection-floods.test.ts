// Floods of connections a hostile network can throw at a node (issue 11, defects 1-3): many
// authenticated connections under one name, unauthenticated connections that stream after being
// refused, silent TCP sockets that never upgrade, and more handshakes than the node will hold.
// Each is refused and counted; nothing escapes; memory stays bounded; real peers still get in.
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLOSE,
  HandshakeError,
  Internode,
  WsTransport,
  dialerHandshake,
  limits,
  type WsRefusal,
} from '../../internode/index.js';
import { Node, RealClock, encode } from '../../runtime/index.js';
import { SECRET, startMember, stopAll, until, waitFor, type Member } from './helpers.js';
import { crosses, identity, noEscapes, rawConnect } from './raw-peer.js';

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

async function stillServing(): Promise<void> {
  expect(a.net.upNodes()).toContain('b');
  await crosses(b, a);
  await crosses(a, b);
}

describe('many authenticated connections under one name and incarnation (defect 1)', () => {
  it('past MAX_CONNECTIONS_PER_PEER they are refused in the handshake and counted; the node serves on', async () => {
    const before = a.net.stats().handshakeRefusals[CLOSE.tooManyConnections.reason] ?? 0;
    const outcomes: string[] = [];
    const { escaped } = await noEscapes(async () => {
      for (let i = 0; i < limits.MAX_CONNECTIONS_PER_PEER + 4; i++) {
        const raw = await rawConnect(a.net.address);
        try {
          await dialerHandshake(raw, identity('mallory-flood'), new RealClock());
          raw.detach();
          outcomes.push('in');
        } catch (err) {
          outcomes.push(err instanceof HandshakeError ? err.refusal : String(err));
        }
      }
    });
    expect(escaped).toEqual([]);
    expect(outcomes.slice(0, limits.MAX_CONNECTIONS_PER_PEER)).toEqual(
      Array(limits.MAX_CONNECTIONS_PER_PEER).fill('in'),
    );
    expect(outcomes.slice(limits.MAX_CONNECTIONS_PER_PEER)).toEqual(Array(4).fill('tooManyConnections'));
    expect(a.net.stats().handshakeRefusals[CLOSE.tooManyConnections.reason]).toBe(before + 4);
    await stillServing();
  });
});

describe('a refused connection that keeps streaming (defect 2)', () => {
  it('is read no further and destroyed within the close grace, though its peer never answers the close', async () => {
    const ws = new WebSocket(`ws://${a.net.address}/troupe`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));
    ws.send(encode({ t: 'hello', v: limits.PROTOCOL_VERSION, cluster: 'elsewhere', nonce: Buffer.alloc(32) }));
    (ws as unknown as { _socket: Socket })._socket.pause(); // we never read the close frame, nor answer it
    const chunk = Buffer.alloc(limits.MAX_HANDSHAKE_BYTES - 16, 7);
    let flushed = 0;
    let open = true;
    void closed.then(() => (open = false));
    const started = Date.now();
    // Stream as fast as the socket takes it, for as long as it lives (or at most 5 s).
    while (open && Date.now() - started < 5_000) {
      if (ws.bufferedAmount < 4 * 1024 * 1024)
        ws.send(chunk, { binary: true }, (err) => void (err ?? (flushed += chunk.length)));
      else await new Promise((r) => setTimeout(r, 1));
      if (flushed % (64 * chunk.length) === 0) await new Promise((r) => setImmediate(r));
    }
    const at = await closed;
    expect(at - started).toBeLessThan(limits.CLOSE_GRACE_MS + 2_000);
    // Once the node stopped reading, only the kernel's socket buffers could take more.
    expect(flushed).toBeLessThan(32 * 1024 * 1024);
    await until(() => (a.net.stats().handshakeRefusals[CLOSE.clusterMismatch.reason] ?? 0) > 0);
    await stillServing();
  });
});

describe('silent sockets and pending handshakes (defect 3)', () => {
  it('Sockets that never upgrade are dropped within the handshake timeout; past a cap the oldest go', async () => {
    const refused: Record<string, number> = {};
    const transport = new WsTransport({
      handshakeTimeoutMs: 300,
      maxPendingSockets: 16,
      onRefusal: (what: WsRefusal) => void (refused[what] = (refused[what] ?? 0) + 1),
    });
    const node = await Node.start({ name: 'quiet', incarnation: 1 });
    const net = await Internode.start({ node, cluster: 'test', secret: SECRET, listen: '127.0.0.1:0', transport });
    const [host, port] = net.address.split(':') as [string, string];
    try {
      const sockets: { socket: Socket; closedAt: number | null }[] = [];
      for (let i = 0; i < 40; i++) {
        const s = { socket: connect(Number(port), host), closedAt: null as number | null };
        s.socket.on('error', () => {});
        s.socket.on('close', () => (s.closedAt = Date.now()));
        sockets.push(s);
        await new Promise<void>((r) => s.socket.once('connect', () => r()));
      }
      const opened = Date.now();
      // A real peer still gets in while they hang around: it is the newest, the oldest are evicted.
      const peer = await startMember('real', { seeds: [net.address] });
      try {
        await until(() => net.upNodes().includes('real'));
      } finally {
        await stopAll(peer);
      }
      await until(() => sockets.every((s) => s.closedAt !== null), 5_000);
      expect(refused['evicted-socket']).toBeGreaterThanOrEqual(40 - 16);
      expect(refused['silent-socket']).toBeGreaterThan(0);
      expect(Math.max(...sockets.map((s) => s.closedAt!)) - opened).toBeLessThan(300 + 2_000);
    } finally {
      await net.stop();
      await node.stop();
    }
  });

  it(`past MAX_PENDING_HANDSHAKES unauthenticated connections, the oldest are closed (4014) and counted`, async () => {
    const before = a.net.stats().handshakeRefusals[CLOSE.tooManyPending.reason] ?? 0;
    const extra = 5;
    const raws = [];
    for (let i = 0; i < limits.MAX_PENDING_HANDSHAKES + extra; i++) raws.push(await rawConnect(a.net.address));
    try {
      const codes = await Promise.all(raws.slice(0, extra).map((r) => r.closed.then((c) => c.code)));
      expect(codes).toEqual(Array(extra).fill(CLOSE.tooManyPending.code));
      await until(() => a.net.stats().handshakeRefusals[CLOSE.tooManyPending.reason] === before + extra);
      expect(raws.slice(extra).every((r) => r.isOpen)).toBe(true);
      await stillServing(); // an established peer is not a pending handshake
    } finally {
      for (const r of raws) r.ws.terminate();
    }
  });
});
