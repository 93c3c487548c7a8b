// After stop (or a failed start), nothing keeps the process alive: a child process that starts
// and stops a cluster must exit on its own, with no listener or ticking timer left behind.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs `body` in a fresh Node process; resolves with its exit code and output, or rejects past `ms`. */
function runChild(body: string, ms = 20_000): Promise<{ code: number | null; output: string }> {
  const script = `import { Cluster, Node } from ${JSON.stringify(resolve(ROOT, 'index.ts'))};\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit on its own within ${ms} ms:\n${output}`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

describe('nothing is left running', () => {
  it('a cluster of two started and stopped in one process lets it exit', async () => {
    const { code, output } = await runChild(`
      const secret = 'no-leaks-secret-0123456789';
      const a = await Cluster.start({ name: 'a', secret, listen: '127.0.0.1:0', logger: false });
      const b = await Cluster.start({ name: 'b', secret, listen: '127.0.0.1:0', seeds: [a.address], logger: false });
      await a.ready({ nodes: 2, timeout: 10000 });
      await b.stop();
      await a.stop();
      console.log('stopped');
    `);
    expect(output).toContain('stopped');
    expect(code).toBe(0);
  });

  it('a bare Node started and stopped lets the process exit', async () => {
    const { code } = await runChild(`
      const node = await Node.start({ name: 'bare' });
      node.spawn(async (ctx) => { await ctx.receive(); });
      await node.stop();
    `);
    expect(code).toBe(0);
  });

  it('a start that fails (port in use) closes what it opened and throws a typed error', async () => {
    const { code, output } = await runChild(`
      import('node:net').then(async ({ createServer }) => {
        const blocker = createServer();
        await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
        const port = blocker.address().port;
        try {
          await Cluster.start({ name: 'x', secret: 'no-leaks-secret-0123456789', listen: '127.0.0.1:' + port, logger: false });
          console.log('started?!');
        } catch (e) {
          console.log('refused ' + e.code);
        }
        blocker.close();
      });
    `);
    expect(output).toMatch(/refused ERR_/);
    expect(code).toBe(0);
  });
});
