// The layer's life on a running node: bad options are ERR_BAD_CONFIG naming the entry; a start
// that fails closes what it opened; stop leaves nothing listening or ticking; and a new layer
// can start on the same node after the old one stopped.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Internode, MemoryNetwork } from '../../internode/index.js';
import { Node, Pid, isTroupeError } from '../../runtime/index.js';
import { SECRET, startMember, stopAll, until, waitFor } from './helpers.js';
import { crosses } from './raw-peer.js';

const ROOT = resolve(import.meta.dirname, '../..');

async function refusal(start: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await start();
  } catch (err) {
    if (!isTroupeError(err)) throw err;
    return { code: err.code, message: err.message };
  }
  throw new Error('the start succeeded');
}

describe('options are checked like listen', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a seed without a port', { seeds: ['127.0.0.1:7000', 'example.org'] }, /seeds\[1\].*example\.org/],
    ['a seed with a port out of range', { seeds: ['127.0.0.1:70000'] }, /seeds\[0\].*out of range/],
    ['a seed that is not a string', { seeds: [42] }, /seeds\[0\]/],
    ['seeds that are not an array', { seeds: '127.0.0.1:1' }, /seeds must be an array/],
    ['a listen address without a port', { listen: 'localhost' }, /listen: .*host:port/],
    ['an advertise address with spaces', { advertise: 'a b:1' }, /advertise/],
    ['a secret that is too short once trimmed', { secret: '   short   ' }, /at least 16 bytes/],
    ['no secret at all', { secret: undefined }, /secret is required/],
    ['maxPeers of zero', { maxPeers: 0 }, /maxPeers/],
  ];
  it.each(cases)('%s: ERR_BAD_CONFIG naming it', async (_what, over, message) => {
    const node = await Node.start({ name: 'cfg', incarnation: 1 });
    try {
      const r = await refusal(() => Internode.start({ node, cluster: 'c', secret: SECRET, ...over } as never));
      expect(r.code).toBe('ERR_BAD_CONFIG');
      expect(r.message).toMatch(message);
    } finally {
      await node.stop();
    }
  });

  it('the secret is trimmed as the CLI trims a cookie file: padded and bare secrets interoperate', async () => {
    const a = await startMember('a', { secret: `  ${SECRET}\n` });
    const b = await startMember('b', { seeds: [a.net.address] });
    try {
      await waitFor(a.net, () => a.net.upNodes().includes('b'));
    } finally {
      await stopAll(b, a);
    }
  });
});

describe('start, stop and start again', () => {
  it('a new layer starts on a node whose layer stopped, and reaches the cluster again', async () => {
    const a = await startMember('a');
    const node = await Node.start({ name: 'b', incarnation: 1 });
    try {
      const first = await Internode.start({ node, cluster: 'test', secret: SECRET, seeds: [a.net.address] });
      await until(() => a.net.upNodes().includes('b'));
      await first.stop();
      await until(() => !a.net.upNodes().includes('b'));
      const second = await Internode.start({ node, cluster: 'test', secret: SECRET, seeds: [a.net.address] });
      try {
        await until(() => a.net.upNodes().includes('b') && second.upNodes().includes('a'));
        await crosses({ node, net: second }, a);
        await crosses(a, { node, net: second });
      } finally {
        await second.stop();
      }
    } finally {
      await node.stop();
      await stopAll(a);
    }
  });

  it('after stop, sendAwait is ERR_STOPPED and events() ends at once', async () => {
    const m = await startMember('s');
    await m.net.stop();
    await expect(m.net.sendAwait(undefined, new Pid('t', 1, 1), 'x')).rejects.toMatchObject({ code: 'ERR_STOPPED' });
    const it = m.net.events();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await m.node.stop();
  });

  it('a start that fails after listening closes its listener (the port is free again)', async () => {
    const node = await Node.start({ name: 'x', incarnation: 1 });
    const net = new MemoryNetwork();
    const first = await Internode.start({ node, cluster: 'c', secret: SECRET, transport: net.transport('x') });
    try {
      // A second layer on the same node cannot attach: its start fails after it listened.
      const r = await refusal(() =>
        Internode.start({ node, cluster: 'c', secret: SECRET, listen: 'x', transport: net.transport('x') }),
      );
      expect(r.code).toBe('ERR_BAD_ARGUMENT');
      const listener = await net.transport('x').listen('x', () => {}); // free again
      await listener.close();
    } finally {
      await first.stop();
      await node.stop();
    }
  });

  it('a listen address in use fails the start, and nothing is left behind', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const node = await Node.start({ name: 'y', incarnation: 1 });
    try {
      await expect(
        Internode.start({ node, cluster: 'c', secret: SECRET, listen: `127.0.0.1:${port}` }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The node has no router attached: a layer can start on it now.
      const ok = await Internode.start({ node, cluster: 'c', secret: SECRET, listen: '127.0.0.1:0' });
      await ok.stop();
    } finally {
      await node.stop();
      blocker.close();
    }
  });

  it('after stop nothing keeps the process alive: a child that starts and stops two layers exits', async () => {
    const script = `
      import { Node } from ${JSON.stringify(resolve(ROOT, 'runtime/index.ts'))};
      import { Internode } from ${JSON.stringify(resolve(ROOT, 'internode/index.ts'))};
      const secret = '${SECRET}';
      const na = await Node.start({ name: 'a' });
      const nb = await Node.start({ name: 'b' });
      const a = await Internode.start({ node: na, cluster: 'c', secret, listen: '127.0.0.1:0' });
      const seeds = [a.address, '127.0.0.1:1']; // one answers, one never does (its redial timer must go too)
      const b = await Internode.start({ node: nb, cluster: 'c', secret, listen: '127.0.0.1:0', seeds });
      while (!a.upNodes().includes('b')) await new Promise((r) => setTimeout(r, 5));
      await b.stop(); await a.stop(); await nb.stop(); await na.stop();
      console.log('stopped');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the child did not exit on its own:\n${output}`));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolvePromise(c);
      });
    });
    expect(output).toContain('stopped');
    expect(code).toBe(0);
  });
});
