// Two nodes that seed each other dial each other at the same moment. Both compute the same
// rule, so exactly one connection survives, and each sees the other up once — no flapping.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  MemoryNetwork,
  WsTransport,
  type Connection,
  type ConnectionHandlers,
  type NodeEvent,
  type Transport,
} from '../../internode/index.js';
import { startMember, stopAll, until, type Member } from './helpers.js';

/** A connection that knows whether it is still open and who dialed it. */
class Tracked implements Connection {
  readonly inner: Connection;
  readonly dialedByUs: boolean;
  open = true;
  constructor(inner: Connection, dialedByUs: boolean) {
    this.inner = inner;
    this.dialedByUs = dialedByUs;
  }
  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }
  get closed(): Promise<unknown> {
    return this.inner.closed;
  }
  authenticated(bytes: number): void {
    this.inner.authenticated(bytes);
  }
  send(data: Buffer, flushed?: (err?: Error) => void): void {
    this.inner.send(data, flushed);
  }
  close(code: number, reason: string): void {
    this.open = false;
    this.inner.close(code, reason);
  }
  setHandlers(h: ConnectionHandlers): void {
    this.inner.setHandlers({
      message: (d) => h.message(d),
      close: (code, reason) => {
        this.open = false;
        h.close(code, reason);
      },
    });
  }
}

function tracking(t: Transport, log: Tracked[]): Transport {
  return {
    listen: (address, onConnection) =>
      t.listen(address, (c) => {
        const tc = new Tracked(c, false);
        log.push(tc);
        onConnection(tc);
      }),
    dial: async (address, options) => {
      const tc = new Tracked(await t.dial(address, options), true);
      log.push(tc);
      return tc;
    },
  };
}

/** Two free loopback ports (asked of the OS, then released for the nodes to bind). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const s = createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const fast = { heartbeatIntervalMs: 50, downAfterMs: 5_000 };

async function race(
  transports: { a: Transport; b: Transport },
  addresses: { a: string; b: string },
  bFirst: boolean,
): Promise<void> {
  const logs = { a: [] as Tracked[], b: [] as Tracked[] };
  const events = { a: [] as NodeEvent[], b: [] as NodeEvent[] };
  const start = (name: 'a' | 'b'): Promise<Member> => {
    const other = name === 'a' ? 'b' : 'a';
    return startMember(name, {
      transport: tracking(transports[name], logs[name]),
      listen: addresses[name],
      seeds: [addresses[other]],
      ...fast,
    });
  };
  // Both start in the same turn: both listen before either dials, so both dials cross.
  const [x, y] = await Promise.all(bFirst ? [start('b'), start('a')] : [start('a'), start('b')]);
  const a = bFirst ? y : x;
  const b = bFirst ? x : y;
  a.net.subscribe((e) => events.a.push(e));
  b.net.subscribe((e) => events.b.push(e));
  try {
    // Up, and heartbeats flowing both ways over the surviving connection for a while.
    await until(() => a.net.upNodes().includes('b') && b.net.upNodes().includes('a'));
    const control = { a: a.net.stats().framesReceived.control, b: b.net.stats().framesReceived.control };
    await until(
      () =>
        a.net.stats().framesReceived.control >= control.a + 6 && b.net.stats().framesReceived.control >= control.b + 6,
    );

    expect(logs.a.filter((c) => c.dialedByUs).length).toBeGreaterThanOrEqual(1);
    expect(logs.b.filter((c) => c.dialedByUs).length).toBeGreaterThanOrEqual(1); // both dialed
    expect(logs.a.length).toBeGreaterThanOrEqual(2); // and both connections reached both sides
    expect(logs.b.length).toBeGreaterThanOrEqual(2);
    // Exactly one connection survives on each side, and it is the one the smaller name dialed.
    const openA = logs.a.filter((c) => c.open);
    const openB = logs.b.filter((c) => c.open);
    expect(openA.map((c) => c.dialedByUs)).toEqual([true]);
    expect(openB.map((c) => c.dialedByUs)).toEqual([false]);
    // Each saw the other up once and never down. (Events before subscribing are in the stats.)
    for (const m of [a, b]) {
      expect(m.net.stats().nodeUps).toBe(1);
      expect(m.net.stats().nodeDowns).toBe(0);
      expect(m.net.members()).toMatchObject([{ state: 'up', connected: true }]);
    }
    expect(events.a.filter((e) => e.type === 'down')).toEqual([]);
    expect(events.b.filter((e) => e.type === 'down')).toEqual([]);
  } finally {
    await stopAll(a, b);
  }
}

describe('simultaneous connect', () => {
  it.each([false, true])(
    'over the in-memory transport (b starts first: %s): one connection, one up each, no flapping',
    async (bFirst) => {
      const net = new MemoryNetwork();
      await race({ a: net.transport('a'), b: net.transport('b') }, { a: 'a', b: 'b' }, bFirst);
    },
  );

  it.each([false, true])(
    'over real WebSocket (b starts first: %s): one connection, one up each, no flapping',
    async (bFirst) => {
      const [pa, pb] = await freePorts(2);
      await race(
        { a: new WsTransport(), b: new WsTransport() },
        { a: `127.0.0.1:${pa}`, b: `127.0.0.1:${pb}` },
        bFirst,
      );
    },
  );
});
