// The Erlang distribution baseline of the internode benchmark: ping-pong between two Erlang
// nodes on loopback (bench/erlang/dist_pingpong.erl), run in the same bench run as troupe's so
// the ratio is of one machine at one moment. Skipped with a reason when `erl` is missing
// (`apt-get install -y erlang-base`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ErlangPingPong {
  readonly otp: string;
  readonly bytes: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly rounds: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; resolves with its output, or with the spawn error (e.g. ENOENT). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = (): void => void child.kill('SIGKILL');
    process.once('exit', kill);
    const timer = setTimeout(kill, timeoutMs);
    const done = (code: number | null, error?: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      resolve({ code, stdout, stderr, ...(error !== undefined ? { error } : {}) });
    };
    child.once('error', (err: NodeJS.ErrnoException) => done(null, err));
    child.once('exit', (code) => done(code));
  });
}

/** Ping-pong rounds per payload size between two Erlang nodes, or why it could not run. */
export async function erlangPingPong(
  sizes: readonly number[],
  rounds: number,
  warmup: number,
): Promise<ErlangPingPong[] | { skipped: string }> {
  const probe = await run('erl', ['-noshell', '-eval', 'halt().'], process.env, 30_000);
  if (probe.error !== undefined)
    return { skipped: `erl not available (${probe.error.code ?? probe.error.message}); apt-get install erlang-base` };
  // A private epmd on a free loopback port, our child, so nothing outlives the bench.
  const port = await freePort();
  const epmd = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
  const killEpmd = (): void => void epmd.kill('SIGKILL');
  process.once('exit', killEpmd);
  const epmdFailed = new Promise<string>((resolve) => {
    epmd.once('error', (err: NodeJS.ErrnoException) => resolve(`epmd not available (${err.code ?? err.message})`));
    epmd.once('exit', (code) => resolve(`epmd exited early (code ${code})`));
  });
  try {
    const ready = await Promise.race([epmdFailed, new Promise<null>((r) => setTimeout(() => r(null), 300))]);
    if (ready !== null) return { skipped: ready };
    const source = join(ROOT, 'bench', 'erlang', 'dist_pingpong.erl');
    const params = [rounds, warmup, ...sizes].map((n) => `"${n}"`).join(',');
    const evalCode =
      `{ok,M,B}=compile:file(${JSON.stringify(source)},[binary,report]), ` +
      `{module,M}=code:load_binary(M,"dist_pingpong.erl",B), M:main(B,[${params}]).`;
    const args = ['-name', 'pingpong_a@127.0.0.1', '-setcookie', randomBytes(12).toString('hex')];
    args.push(
      '-start_epmd',
      'false',
      '-kernel',
      'inet_dist_use_interface',
      '{127,0,0,1}',
      '-noshell',
      '-eval',
      evalCode,
    );
    const result = await run('erl', args, { ...process.env, ERL_EPMD_PORT: String(port) }, 300_000);
    if (result.code !== 0)
      return { skipped: `erl failed (code ${result.code}): ${(result.stderr + result.stdout).slice(0, 400)}` };
    try {
      return result.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ErlangPingPong);
    } catch {
      return { skipped: `unreadable erl output: ${result.stdout.slice(0, 200)}` };
    }
  } finally {
    killEpmd();
    process.removeListener('exit', killEpmd);
  }
}
