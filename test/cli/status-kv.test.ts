// `troupe status` and `troupe kv` as a user runs them: real CLI processes against the admin
// server of a real node; and `troupe node --admin` with its token file, validated like every flag.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'cli-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-admin-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`);
const cookie = join(dir, 'cookie');
writeFileSync(cookie, 'cli-admin-secret-0123456789\n');
let cluster: Cluster;
let admin: string;

beforeAll(async () => {
  cluster = await Cluster.start({
    name: 'cli-target',
    logger: false,
    raft: { dataDir: join(dir, 'data'), voters: ['cli-target'] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  });
  await cluster.ready({ timeout: 10_000 });
  admin = cluster.admin.address;
});
afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; with `until`, sends SIGINT once stdout matches it (after `meanwhile` has run, if given). */
function troupe(
  args: string[],
  until?: RegExp,
  env: Record<string, string> = {},
  meanwhile?: (stdout: string) => Promise<void>,
): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let matched = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (matched || until?.test(stdout) !== true) return;
    matched = true;
    void (meanwhile?.(stdout) ?? Promise.resolve()).finally(() => child.kill('SIGINT'));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`troupe ${args.join(' ')} did not end: ${stdout} ${stderr}`));
    }, 50_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('troupe status', () => {
  it('prints the members, the Raft groups and the counts as tables', async () => {
    const r = await troupe(['status', '--admin', admin]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^node cli-target of cluster troupe/m);
    expect(r.stdout).toMatch(/^MEMBER\s+STATE\s+INCARNATION\s+ADDRESS$/m);
    expect(r.stdout).toMatch(/^cli-target \(this node\)\s+up\s+\d+/m);
    expect(r.stdout).toMatch(/^kv\s+leader\s+cli-target\s+\d+\s+\d+\s+\d+\s+cli-target\s+-$/m);
    expect(r.stdout).toMatch(/^names \(eventual\)\s+0$/m);
  });

  it('prints the views as JSON with --json, reading the address from TROUPE_ADMIN', async () => {
    const r = await troupe(['status', '--json'], undefined, { TROUPE_ADMIN: `http://${admin}` });
    expect(r.code).toBe(0);
    const views = JSON.parse(r.stdout) as { status: { node: string }; raft: { groups: { id: string }[] } };
    expect(views.status.node).toBe('cli-target');
    expect(views.raft.groups.map((g) => g.id)).toEqual(['kv']);
  });

  it('says so in one line (exit 2) without an address, and exit 1 when nothing answers', async () => {
    const none = await troupe(['status']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/^troupe status: no admin server/)]);
    const down = await troupe(['status', '--admin', '127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^troupe status: ERR_UNREACHABLE: /);
  });
});

describe('troupe kv', () => {
  const kv = (...args: string[]) => ['kv', ...args, '--admin', admin];

  it('puts, gets, scans and deletes keys, with the token from --admin-token-file', async () => {
    const put = await troupe(kv('put', 'cfg', 'app/color', 'blue', '--admin-token-file', tokenFile));
    expect(put.stderr).toBe('');
    expect(put.stdout).toMatch(/^\d+\n$/);
    await troupe(kv('put', 'cfg', 'app/size', 'xl', '--admin-token-file', tokenFile));
    expect((await troupe(kv('get', 'cfg', 'app/color'))).stdout).toBe('blue\n');
    expect((await troupe(kv('get', 'cfg', '--prefix', 'app/'))).stdout).toBe('app/color\tblue\napp/size\txl\n');
    const del = await troupe(kv('del', 'cfg', 'app/size', '--admin-token-file', tokenFile));
    expect(del.stdout).toMatch(/^1 deleted at revision \d+\n$/);
    const gone = await troupe(kv('get', 'cfg', 'app/size'));
    expect([gone.code, gone.stderr]).toEqual([1, expect.stringMatching(/ERR_ADMIN_NO_KEY/)]);
  });

  it('refuses a write without the token (exit 1, the server code) and a stale --if-match', async () => {
    const r = await troupe(kv('put', 'cfg', 'k', 'v'));
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/^troupe kv: ERR_ADMIN_UNAUTHORIZED: /)]);
    const stale = await troupe(kv('put', 'cfg', 'k', 'v', '--if-match', '999999', '--admin-token-file', tokenFile));
    expect([stale.code, stale.stderr]).toEqual([1, expect.stringMatching(/ERR_ADMIN_CAS_FAILED/)]);
    const usage = await troupe(kv('get', 'cfg'));
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/needs a KEY or --prefix P/)]);
  });

  it('watches a prefix from a revision, printing each change, and ends cleanly on SIGINT', async () => {
    const first = await cluster.kv.space('watched').put('w/1', 'one');
    await cluster.kv.space('watched').put('w/2', 'two');
    await cluster.kv.space('watched').delete('w/1');
    const r = await troupe(kv('watch', 'watched', '--prefix', 'w/', '--from', String(first.revision)), /delete/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${first.revision}\tput\tw/1\tone`,
      `${first.revision + 1}\tput\tw/2\ttwo`,
      `${first.revision + 2}\tdelete\tw/1`,
    ]);
  });
});

describe('troupe node --admin', () => {
  it('serves the admin API on the address given, with writes allowed by the token file', async () => {
    const base = ['node', '--name', 'adm', '--cookie-file', cookie, '--admin', '127.0.0.1:0'];
    const seen: number[] = [];
    const r = await troupe(
      [...base, '--admin-token-file', tokenFile],
      /^admin http:\/\/127\.0\.0\.1:\d+$/m,
      {},
      async (out) => {
        const url = /^admin (\S+)$/m.exec(out)![1]!;
        seen.push((await fetch(`${url}/livez`)).status);
        seen.push((await fetch(`${url}/metrics`)).status);
        // No Raft on this node: the KV paths answer 503 ERR_ADMIN_UNAVAILABLE, after the token check.
        const put = await fetch(`${url}/v1/kv/s/k`, {
          method: 'PUT',
          body: 'v',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        seen.push(put.status);
      },
    );
    expect(seen).toEqual([200, 200, 503]);
    expect(r.stdout).toMatch(/^ready adm /m);
    expect(r.stdout).toMatch(/^stopped adm$/m);
  });

  it('refuses a bad --admin, a token file without --admin, and a short token, in one line each', async () => {
    const base = ['node', '--name', 'adm', '--cookie-file', cookie];
    const short = join(dir, 'short-token');
    writeFileSync(short, 'short\n');
    for (const [args, message] of [
      [['--admin', 'nowhere'], /--admin: expected HOST:PORT/],
      [['--admin-token-file', tokenFile], /--admin-token-file: needs --admin HOST:PORT/],
      [['--admin', '127.0.0.1:0', '--admin-token-file', short], /the admin token must be at least 16 bytes/],
      [['--admin', '127.0.0.1:0', '--admin-token-file', join(dir, 'none')], /--admin-token-file .*ENOENT/],
    ] as const) {
      const r = await troupe([...base, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
