// Runs `troupe node` as real child processes and reads their event lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Node, Pid } from '../../runtime/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

export function cookieFile(secret: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-e2e-'));
  const file = join(dir, 'cookie');
  writeFileSync(file, secret, { mode: 0o600 });
  return file;
}

export class NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  #waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(name: string, args: string[], options: { benchAdmin?: boolean } = {}) {
    this.name = name;
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'cli/main.ts'),
        'node',
        '--name',
        name,
        '--log-level',
        'warn',
        ...(options.benchAdmin === false ? [] : ['--bench-admin']),
        ...args,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffer = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.match(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    this.child.stderr!.on('data', () => {});
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  /** The first line (already printed or to come) matching, within `ms` of real time. */
  line(match: RegExp, ms = 20_000): Promise<string> {
    const seen = this.lines.find((l) => match.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${this.name}: no line matching ${String(match)} in ${ms} ms; saw ${JSON.stringify(this.lines)}`),
          ),
        ms,
      );
      this.#waiters.push({
        match: (l) => match.test(l),
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  async ready(): Promise<{ address: string; incarnation: number }> {
    const l = await this.line(/^ready /);
    const [, , address, inc] = l.split(' ');
    return { address: address!, incarnation: Number(inc) };
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** Asks node `name`'s admin process (registered as `troupe`) for its pid, from a local process. */
export async function adminOf(node: Node, name: string): Promise<Pid> {
  let pid!: Pid;
  const asker = node.spawn(async (ctx) => {
    ctx.send({ node: name, name: 'troupe' }, { type: 'whoami', from: ctx.self });
    pid = ((await ctx.receive((m) => (m as { type?: string }).type === 'iam', { timeout: 10_000 })) as { pid: Pid })
      .pid;
  });
  await node.exited(asker);
  return pid;
}

/** Re-checks a condition (sync or async) every few ms until it holds, or fails after `ms` of real time. */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('eventually: condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
