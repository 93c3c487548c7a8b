// `troupe node` as a user meets it: setup mistakes are one line and exit code 2 (no stack
// trace), help and version exit 0, every flag also reads from the environment, flags win over the
// environment, which wins over a config file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
const cookie = join(dir, 'cookie');
writeFileSync(cookie, 'cli-test-secret-0123456789\n');
const shortCookie = join(dir, 'short');
writeFileSync(shortCookie, 'short\n');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; for a node that starts, stops it with SIGTERM once it printed `ready`. */
function troupe(args: string[], env: Record<string, string> = {}, until = /^ready /m): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (until.test(stdout)) child.kill('SIGTERM');
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

async function busyPort(): Promise<{ port: number; close: () => void }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

const base = ['node', '--name', 'cli', '--cookie-file', cookie];

describe('troupe node: setup errors', () => {
  it('each mistake is one line naming it, exit code 2, no stack trace', async () => {
    const busy = await busyPort();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['node', '--cookie-file', cookie], {}, /--name is required/],
      [[...base, '--listen', 'nope'], {}, /--listen: expected HOST:PORT/],
      [[...base, '--listen', '127.0.0.1:70000'], {}, /--listen: expected HOST:PORT with a port in 0\.\.65535/],
      [[...base, '--join', '127.0.0.1'], {}, /--join: expected HOST:PORT/],
      [[...base, '--join', '127.0.0.1:0'], {}, /--join: expected HOST:PORT with a port in 1\.\./],
      [[...base, '--log-level', 'loud'], {}, /--log-level: expected one of fatal, error/],
      [['node', '--name', 'bad name!', '--cookie-file', cookie], {}, /--name: /],
      [['node', '--name', 'cli'], {}, /no cluster secret/],
      [['node', '--name', 'cli', '--cookie-file', shortCookie], {}, /at least 16 bytes/],
      [['node', '--name', 'cli', '--cookie-file', join(dir, 'missing')], {}, /--cookie-file .*ENOENT/],
      [['node', '--name', 'cli', '--cookie', 'x'], {}, /--cookie is refused/],
      [[...base, '--bogus'], {}, /Unknown option '--bogus'/],
      [[...base, '--listen', `127.0.0.1:${busy.port}`], {}, /listen 127\.0\.0\.1:\d+: address in use/],
      [[...base], { TROUPE_LISTEN: 'bad' }, /TROUPE_LISTEN: expected HOST:PORT/],
      [[...base, '--name-grace-ms=-5'], {}, /--name-grace-ms: expected a whole number/],
      [[...base, '--name-grace-ms', '-5'], {}, /argument is ambiguous/],
      [[...base, '--expect', '3'], {}, /--expect: needs --data-dir/],
      [[...base, '--data-dir', join(dir, 'r0')], {}, /--data-dir: give --expect N or --voters/],
      [[...base, '--data-dir', join(dir, 'r1'), '--expect', '2'], {}, /--expect: expected an odd number/],
      [[...base, '--data-dir', join(dir, 'r2'), '--voters', 'a,bad name!'], {}, /--voters: /],
    ];
    const runs = await Promise.all(cases.map(([args, env]) => troupe(args, env)));
    busy.close();
    runs.forEach((run, i) => {
      const [args, , expected] = cases[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      const lines = run.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(/^troupe node: /);
      expect(lines[0]).toMatch(expected);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  }, 60_000); // twenty node processes start at once on two cores
});

describe('troupe node --data-dir', () => {
  it('runs the Raft host from a data directory, resumes from it, and refuses one of another node', async () => {
    const dataDir = join(dir, 'raft-cli');
    const first = await troupe([...base, '--data-dir', dataDir, '--expect', '1'], {}, /^raft founders cli$/m);
    expect(first.code).toBe(0);
    expect(readFileSync(join(dataDir, 'founders.json'), 'utf8')).toBe('{"voters":["cli"]}');
    const again = await troupe([...base, '--data-dir', dataDir, '--expect', '1'], {}, /^raft founders cli$/m);
    expect(again.code).toBe(0);
    const thief = await troupe([
      'node',
      '--name',
      'other',
      '--cookie-file',
      cookie,
      '--data-dir',
      dataDir,
      '--expect',
      '1',
    ]);
    expect(thief.code).toBe(2);
    expect(thief.stderr.trim().split('\n')).toHaveLength(1);
    expect(thief.stderr).toMatch(/^troupe node: .*belongs to node "cli", not other/);
  });
});

describe('troupe: help, version, unknown commands', () => {
  it('--help and -h exit 0 everywhere; --version prints the version; unknown is exit 2', async () => {
    const [help, h, nodeHelp, nodeH, demoHelp, version, unknown, none] = await Promise.all([
      troupe(['--help']),
      troupe(['-h']),
      troupe(['node', '--help']),
      troupe(['node', '-h']),
      troupe(['demo', '--help']),
      troupe(['--version']),
      troupe(['frobnicate']),
      troupe([]),
    ]);
    for (const r of [help, h, nodeHelp, nodeH, demoHelp, version]) expect(r.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: troupe <command>/);
    expect(nodeHelp.stdout).toMatch(/TROUPE_LISTEN/);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect([unknown.code, none.code]).toEqual([2, 2]);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe('troupe node: settings from env and a config file', () => {
  it('reads every setting from TROUPE_* variables; flags win over env, env over the file', async () => {
    const fromEnv = await troupe(['node'], {
      TROUPE_NAME: 'env-node',
      TROUPE_COOKIE_FILE: cookie,
      TROUPE_LISTEN: '127.0.0.1:0',
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/^ready env-node 127\.0\.0\.1:\d+ \d+$/m);
    const flagWins = await troupe(['node', '--name', 'flag-node'], {
      TROUPE_NAME: 'env-node',
      TROUPE_COOKIE: 'cli-test-secret-0123456789',
    });
    expect(flagWins.stdout).toMatch(/^ready flag-node /m);
    const config = join(dir, 'troupe.json');
    writeFileSync(config, JSON.stringify({ name: 'file-node', cookieFile: cookie, logLevel: 'warn' }));
    const fromFile = await troupe(['node', '--config', config]);
    expect(fromFile.stdout).toMatch(/^ready file-node /m);
    const envOverFile = await troupe(['node', '--config', config], { TROUPE_NAME: 'env-over-file' });
    expect(envOverFile.stdout).toMatch(/^ready env-over-file /m);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'x', listn: '127.0.0.1:0' }));
    const badKey = await troupe(['node', '--config', join(dir, 'bad.json')]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/^troupe node: listn in .*bad\.json: unknown setting$/m);
  });
});
