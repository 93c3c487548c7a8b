// A child process that speaks JSON lines (commands on stdin, one object per line on stdout),
// for the crash tests: every line is passed to `onLine`, and `next` waits, bounded in real
// time, for a line that matches.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Line = Record<string, unknown>;

export class LineProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly #waiting: { match: (l: Line) => boolean; done: (l: Line) => void }[] = [];

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    onLine: (line: Line) => void = () => {},
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      onLine(line);
      for (const w of this.#waiting.splice(0)) {
        if (w.match(line)) w.done(line);
        else this.#waiting.push(w);
      }
    });
  }

  /** The next line matching, within `ms` (a process that hangs fails the test). */
  next(match: (l: Line) => boolean, ms = 60_000): Promise<Line> {
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.name}: no answer in ${ms} ms`)), ms);
      this.#waiting.push({
        match,
        done: (l) => {
          clearTimeout(timer);
          done(l);
        },
      });
    });
  }

  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Asks, and waits for the answer that has `field`. */
  async ask(cmd: object, field: string, ms?: number): Promise<Line> {
    const answer = this.next((l) => l[field] !== undefined, ms);
    this.send(cmd);
    return answer;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls until `count()` grew by `n` (real time, bounded: a stuck cluster fails the test). */
export async function growBy(count: () => number, n: number, what: string, ms = 60_000): Promise<void> {
  const target = count() + n;
  for (let waited = 0; count() < target; waited += 50) {
    if (waited > ms) throw new Error(`stuck at ${count()} ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The index of the process that answers `{ op: 'role' }` with leader (polled, bounded). */
export async function leaderIndex(nodes: readonly LineProcess[]): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const roles = await Promise.all(nodes.map((p) => p.ask({ op: 'role' }, 'role')));
    const at = roles.findIndex((r) => r.role === 'leader');
    if (at >= 0) return at;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader');
}
