// The transport contract (internode/transport.ts), passed by both transports: the WebSocket one
// over real sockets, and the in-memory one the simulation runs on. Whole binary messages in
// order; early messages kept until handlers are set; a close carries its code and reason and
// nothing is delivered after it; before authentication only handshake-sized messages pass;
// dials fail with typed errors; a listener's close ends what it accepted.
import { describe, expect, it } from 'vitest';
import {
  DialError,
  MemoryNetwork,
  WsTransport,
  limits,
  type Connection,
  type Transport,
} from '../../internode/index.js';
import { isTroupeError } from '../../runtime/index.js';

interface Subject {
  readonly name: string;
  /** A transport, an address to listen on, and one where nobody listens. */
  make(): { transport: Transport; listenOn: string; nowhere: string };
}

const subjects: Subject[] = [
  {
    name: 'WebSocket',
    make: () => ({ transport: new WsTransport(), listenOn: '127.0.0.1:0', nowhere: '127.0.0.1:1' }),
  },
  {
    name: 'in-memory',
    make: () => {
      const net = new MemoryNetwork();
      return { transport: net.transport('srv'), listenOn: 'srv', nowhere: 'nobody' };
    },
  },
];

/** What one end of a connection saw. */
function observe(conn: Connection): { got: Buffer[]; closes: { code: number; reason: string }[] } {
  const seen = { got: [] as Buffer[], closes: [] as { code: number; reason: string }[] };
  conn.setHandlers({
    message: (d) => void seen.got.push(d),
    close: (code, reason) => void seen.closes.push({ code, reason }),
  });
  return seen;
}

async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('until: condition not reached in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A listener and one connection dialed to it: [dialed end, accepted end]. */
async function pair(subject: Subject): Promise<{
  dialed: Connection;
  accepted: Connection;
  close(): Promise<void>;
  transport: Transport;
  address: string;
}> {
  const { transport, listenOn } = subject.make();
  let accepted: Connection | undefined;
  const listener = await transport.listen(listenOn, (c) => (accepted = c));
  const dialed = await transport.dial(listener.address);
  await until(() => accepted !== undefined);
  return { dialed, accepted: accepted!, close: () => listener.close(), transport, address: listener.address };
}

describe.each(subjects)('the $name transport', (subject) => {
  it('carries whole binary messages both ways, in order', async () => {
    const p = await pair(subject);
    try {
      const a = observe(p.accepted);
      const d = observe(p.dialed);
      const sizes = [1, 100, 0, limits.MAX_HANDSHAKE_BYTES, 7];
      for (const [i, n] of sizes.entries()) p.dialed.send(Buffer.alloc(n, i));
      for (const [i, n] of sizes.entries()) p.accepted.send(Buffer.alloc(n, 10 + i));
      await until(() => a.got.length === sizes.length && d.got.length === sizes.length);
      expect(a.got.map((b) => [b.length, b[0] ?? null])).toEqual(sizes.map((n, i) => [n, n > 0 ? i : null]));
      expect(d.got.map((b) => [b.length, b[0] ?? null])).toEqual(sizes.map((n, i) => [n, n > 0 ? 10 + i : null]));
    } finally {
      await p.close();
    }
  });

  it('keeps messages that arrive before handlers are set, and hands them over in order', async () => {
    const p = await pair(subject);
    try {
      const flushed: number[] = [];
      for (let i = 0; i < 3; i++) p.dialed.send(Buffer.from([i]), () => flushed.push(i));
      await until(() => flushed.length === 3);
      await new Promise((r) => setTimeout(r, 20));
      const a = observe(p.accepted);
      await until(() => a.got.length === 3);
      expect(a.got.map((b) => b[0])).toEqual([0, 1, 2]);
    } finally {
      await p.close();
    }
  });

  it('a close carries its code and reason to the peer; each side is told once; closed resolves on both', async () => {
    const p = await pair(subject);
    try {
      const a = observe(p.accepted);
      const d = observe(p.dialed);
      p.dialed.close(4321, 'because');
      await Promise.all([p.dialed.closed, p.accepted.closed]);
      expect(a.closes).toEqual([{ code: 4321, reason: 'because' }]);
      expect(d.closes).toHaveLength(1);
      p.dialed.close(4000, 'again'); // a second close changes nothing
      await new Promise((r) => setTimeout(r, 10));
      expect(d.closes).toHaveLength(1);
    } finally {
      await p.close();
    }
  });

  it('delivers nothing after our own close, and a send after it reports failure', async () => {
    const p = await pair(subject);
    try {
      const a = observe(p.accepted);
      p.accepted.close(4001, 'done');
      p.dialed.send(Buffer.from('late')); // may race the close frame; must never be delivered
      await p.accepted.closed;
      await new Promise((r) => setTimeout(r, 20));
      expect(a.got).toEqual([]);
      const err = await new Promise<Error | undefined>((resolve) => p.accepted.send(Buffer.from('x'), resolve));
      expect(err).toBeInstanceOf(Error);
    } finally {
      await p.close();
    }
  });

  it('before authentication, a message over MAX_HANDSHAKE_BYTES closes the connection (1009)', async () => {
    const p = await pair(subject);
    try {
      const a = observe(p.accepted);
      p.dialed.send(Buffer.alloc(limits.MAX_HANDSHAKE_BYTES + 1));
      await p.accepted.closed;
      expect(a.got).toEqual([]);
      expect(a.closes.map((c) => c.code)).toEqual([1009]);
    } finally {
      await p.close();
    }
  });

  it('once authenticated, messages up to the given size pass', async () => {
    const p = await pair(subject);
    try {
      const a = observe(p.accepted);
      p.accepted.authenticated(limits.MAX_WS_MESSAGE_BYTES);
      p.dialed.authenticated(limits.MAX_WS_MESSAGE_BYTES);
      p.dialed.send(Buffer.alloc(limits.MAX_FRAME_BODY_BYTES, 3));
      await until(() => a.got.length === 1);
      expect(a.got[0]!.length).toBe(limits.MAX_FRAME_BODY_BYTES);
      expect(p.dialed.bufferedAmount).toBeGreaterThanOrEqual(0);
    } finally {
      await p.close();
    }
  });

  it('a dial to an address nobody listens on fails with a typed dial error', async () => {
    const { transport, nowhere } = subject.make();
    const err = await transport.dial(nowhere).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DialError);
    expect(err).toMatchObject({ code: 'ERR_TRANSPORT', failure: 'refused' });
  });

  it('a dial whose signal is already aborted fails with ERR_ABORTED', async () => {
    const p = await pair(subject);
    try {
      const ac = new AbortController();
      ac.abort();
      const err = await p.transport.dial(p.address, { signal: ac.signal }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTroupeError(err, 'ERR_ABORTED')).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('listening on an address in use fails', async () => {
    const p = await pair(subject);
    try {
      await expect(p.transport.listen(p.address, () => {})).rejects.toBeDefined();
    } finally {
      await p.close();
    }
  });

  it("a listener's close ends the connections it accepted, and nobody can dial it after", async () => {
    const p = await pair(subject);
    const d = observe(p.dialed);
    await p.close();
    await p.dialed.closed;
    expect(d.closes).toHaveLength(1);
    await expect(p.transport.dial(p.address)).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
  });
});
