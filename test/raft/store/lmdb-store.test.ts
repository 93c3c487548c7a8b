import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LmdbLogStore, type LogStore } from '../../../raft/store/index.js';
import { logStoreContract, normal } from './contract.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'troupe-lmdb-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const where = new WeakMap<LogStore, string>();
logStoreContract('LmdbLogStore', {
  create: () => {
    const dir = freshDir();
    const store = LmdbLogStore.open({ dir, nodeId: 'n1' });
    where.set(store, dir);
    return Promise.resolve(store);
  },
  reopen: async (store) => {
    const dir = where.get(store)!;
    await store.close();
    const again = LmdbLogStore.open({ dir, nodeId: 'n1' });
    where.set(again, dir);
    return again;
  },
});

const hs = { term: 1, vote: null, commit: 0 };
const entryWrite = (id: number, index: number) => ({
  group: 'g',
  write: { id, hardState: hs, snapshot: null, entries: [normal(index, 1)] },
});

describe('LmdbLogStore refuses a directory it did not write, and overwrites nothing', () => {
  it('refuses the directory of another node', async () => {
    const dir = freshDir();
    const store = LmdbLogStore.open({ dir, nodeId: 'n1', cluster: 'blue' });
    await store.persist([entryWrite(1, 1)]);
    await store.close();
    const before = readFileSync(join(dir, 'raft.mdb'));
    expect(() => LmdbLogStore.open({ dir, nodeId: 'n2', cluster: 'blue' })).toThrow(
      expect.objectContaining({ code: 'ERR_RAFT_STORE_FOREIGN', message: expect.stringContaining('"n1"') }),
    );
    expect(() => LmdbLogStore.open({ dir, nodeId: 'n1', cluster: 'green' })).toThrow(
      expect.objectContaining({ code: 'ERR_RAFT_STORE_FOREIGN', message: expect.stringContaining('"blue"') }),
    );
    expect(readFileSync(join(dir, 'raft.mdb')).equals(before)).toBe(true);
    const ok = LmdbLogStore.open({ dir, nodeId: 'n1', cluster: 'blue' });
    expect(ok.load('g').entries).toHaveLength(1);
    await ok.close();
  });

  it('refuses a truncated file with a typed error instead of crashing the process', async () => {
    const dir = freshDir();
    const store = LmdbLogStore.open({ dir, nodeId: 'n1' });
    for (let i = 1; i <= 200; i++) await store.persist([entryWrite(i, i)]);
    await store.close();
    const file = join(dir, 'raft.mdb');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expect(() => LmdbLogStore.open({ dir, nodeId: 'n1' })).toThrow(
      expect.objectContaining({ code: 'ERR_RAFT_STORE_CORRUPT', message: expect.stringContaining('truncated') }),
    );
    truncateSync(file, 100);
    expect(() => LmdbLogStore.open({ dir, nodeId: 'n1' })).toThrow(
      expect.objectContaining({ code: 'ERR_RAFT_STORE_CORRUPT' }),
    );
  });

  it('refuses a file that is not an LMDB environment', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'raft.mdb'), Buffer.alloc(64 * 1024, 7));
    expect(() => LmdbLogStore.open({ dir, nodeId: 'n1' })).toThrow(
      expect.objectContaining({ code: 'ERR_RAFT_STORE_CORRUPT' }),
    );
  });
});

describe('LmdbLogStore under kill -9', () => {
  it('keeps every acknowledged write, and the log it reloads is a valid prefix', async () => {
    const dir = freshDir();
    const writer = resolve(import.meta.dirname, 'lmdb-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    let buffered = '';
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`writer acknowledged only ${acked} writes in 20 s`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (line.startsWith('acked ')) acked = Number(line.slice(6));
        if (acked >= 300 && child.exitCode === null) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          done();
        }
      });
      child.on('exit', (code) => {
        if (acked < 300) fail(new Error(`writer exited (${code}) after ${acked} writes`));
      });
    });
    await new Promise((r) => child.once('close', r));
    const store = LmdbLogStore.open({ dir, nodeId: 'writer' });
    const entries = store.load('g').entries;
    expect(entries.length).toBeGreaterThanOrEqual(acked);
    expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i + 1));
    expect(store.load('g').hardState.commit).toBeGreaterThanOrEqual(acked - 1);
    await store.close();
  }, 30_000);
});
