// The duplicate-name loop of issue 9, with real `troupe node` processes: x, then y joining x,
// then a second x joining y. Before the fix the first x saw y go down and up about 22 times a
// second, forever. Now y refuses the newcomer ('name in use', logged on both sides), nobody
// flaps, and once the first x stops the newcomer gets in.
import { afterAll, describe, expect, it } from 'vitest';
import { NodeProcess, cookieFile } from '../e2e/processes.js';

const SECRET = 'duplicate-name-secret-0123456789';
/** How long the live node is watched for flapping (the old loop flapped ~22 times a second). */
const WATCH_MS = 4_000;

function stderrOf(p: NodeProcess): { text: () => string; wait: (re: RegExp, ms?: number) => Promise<void> } {
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  p.child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of waiters.splice(0))
      if (w.re.test(text)) w.resolve();
      else waiters.push(w);
  });
  return {
    text: () => text,
    wait: (re, ms = 20_000) =>
      re.test(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${p.name}: no ${String(re)} on stderr: ${text}`)), ms);
            waiters.push({
              re,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
  };
}

describe('a second node under the name of a live one (real processes)', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
  });

  it('is refused ("name in use") on both sides; nobody flaps; it gets in once the first stops', async () => {
    const cookie = cookieFile(SECRET);
    const x = new NodeProcess('x', ['--listen', '127.0.0.1:0', '--cookie-file', cookie]);
    procs.push(x);
    const { address: xAddress } = await x.ready();
    const y = new NodeProcess('y', ['--listen', '127.0.0.1:0', '--join', xAddress, '--cookie-file', cookie]);
    procs.push(y);
    const { address: yAddress } = await y.ready();
    const yErr = stderrOf(y);
    await Promise.all([x.line(/^up y /), y.line(/^up x /)]);

    const x2 = new NodeProcess('x', ['--listen', '127.0.0.1:0', '--join', yAddress, '--cookie-file', cookie]);
    procs.push(x2);
    const x2Err = stderrOf(x2);
    const { incarnation: x2Inc } = await x2.ready();
    await Promise.all([x2Err.wait(/name in use/), yErr.wait(/name in use/)]);
    const before = { x: x.lines.length, y: y.lines.length };
    await new Promise((r) => setTimeout(r, WATCH_MS)); // an observation window: nothing may happen in it
    expect(x.lines.slice(before.x)).toEqual([]);
    expect(y.lines.slice(before.y)).toEqual([]);
    expect(x2.lines.filter((l) => /^(up|down) /.test(l))).toEqual([]);
    expect(x2Err.text()).toMatch(/a live node already holds this node name/);
    expect(yErr.text()).toMatch(/refused a node whose name a live node holds/);

    x.kill('SIGTERM');
    expect(await x.exited).toBe(0);
    await Promise.all([y.line(new RegExp(`^up x ${x2Inc}`)), x2.line(/^up y /)]);
  });
});
