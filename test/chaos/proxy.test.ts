// The chaos proxy: bytes flow through it, a cut direction holds its bytes (nothing lost, nothing
// delivered) until healed, a one-way cut stops one direction only, a reset closes connections, and
// an outside client (an address no node dials from) is never cut.
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultMatrix, FaultProxy } from '../../chaos/proxy.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An echo server that also records what each connection sent it. */
async function echoServer(): Promise<{ address: string; received: string[] }> {
  const received: string[] = [];
  const server = createServer((s) => {
    const i = received.push('') - 1;
    s.on('data', (d: Buffer) => {
      received[i] += d.toString();
      s.write(d);
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function setup(): Promise<{ matrix: FaultMatrix; proxy: FaultProxy; received: string[] }> {
  const echo = await echoServer();
  const matrix = new FaultMatrix();
  const proxy = await FaultProxy.start({
    node: 'b',
    host: '127.0.0.1',
    matrix,
    sourceOf: (ip) => (ip === '127.0.0.2' ? 'a' : undefined),
  });
  proxy.target(echo.address);
  closers.push(() => proxy.close());
  return { matrix, proxy, received: echo.received };
}

async function dial(
  proxy: FaultProxy,
  from?: string,
): Promise<Socket & { text: () => string; wait: (s: string) => Promise<void> }> {
  const [host, port] = [proxy.address.split(':')[0]!, Number(proxy.address.split(':')[1])];
  const s = createConnection({ host, port, ...(from !== undefined ? { localAddress: from } : {}) });
  await once(s, 'connect');
  let text = '';
  const waiters: { want: string; resolve: () => void }[] = [];
  s.on('data', (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.splice(0))
      if (text.includes(w.want)) w.resolve();
      else waiters.push(w);
  });
  s.on('error', () => {});
  closers.push(() => void s.destroy());
  return Object.assign(s, {
    text: () => text,
    wait: (want: string) =>
      text.includes(want) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ want, resolve })),
  });
}

describe('chaos proxy', () => {
  it('forwards both ways; a cut direction holds its bytes until healed, then delivers them', async () => {
    const { matrix, proxy, received } = await setup();
    const a = await dial(proxy, '127.0.0.2');
    a.write('one;');
    await a.wait('one;');
    matrix.cut('a', 'b');
    a.write('two;');
    // An outside client is never cut: its echo proves the proxy has turned since 'two;' was written.
    const outside = await dial(proxy);
    outside.write('ping');
    await outside.wait('ping');
    expect(received[0]).toBe('one;');
    matrix.healAll();
    await a.wait('two;');
    expect(received[0]).toBe('one;two;');
  });

  it('a one-way cut stops only that direction', async () => {
    const { matrix, proxy, received } = await setup();
    const a = await dial(proxy, '127.0.0.2');
    matrix.cut('b', 'a');
    a.write('hello');
    const outside = await dial(proxy);
    outside.write('ping');
    await outside.wait('ping');
    // The server got the bytes from a (a -> b flows) but its echo is held (b -> a is cut).
    await expect.poll(() => received[0]).toBe('hello');
    expect(a.text()).toBe('');
    matrix.healAll();
    await a.wait('hello');
  });

  it('a partition cuts both directions between groups; a reset closes the connections of a node', async () => {
    const { matrix, proxy } = await setup();
    matrix.partition(['a'], ['b', 'c']);
    expect(matrix.cuts()).toEqual(['a->b', 'a->c', 'b->a', 'c->a']);
    const a = await dial(proxy, '127.0.0.2');
    const closed = once(a, 'close');
    proxy.reset('a');
    await closed;
    expect(proxy.counters.accepted).toBe(1);
  });
});
