// The founding voters a node found (with `raft.expect`), kept beside its Raft log so that a
// restart answers peers at once and never searches again. Written to a temporary file, synced,
// then renamed over the old one: a crash leaves the old file or the new one, never half of one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TroupeError, validateNodeName } from '../runtime/index.js';

const FILE = 'founders.json';

export function readFounders(dataDir: string): readonly string[] | null {
  const file = join(dataDir, FILE);
  if (!existsSync(file)) return null;
  let voters: unknown;
  try {
    voters = (JSON.parse(readFileSync(file, 'utf8')) as { voters?: unknown }).voters;
    if (!Array.isArray(voters) || voters.length === 0) throw new Error('no voters');
    for (const v of voters) validateNodeName(v);
  } catch (error) {
    throw new TroupeError('ERR_RAFT_STORE_CORRUPT', `${file} is not a founders file: ${(error as Error).message}`);
  }
  return voters as string[];
}

export function writeFounders(dataDir: string, voters: readonly string[]): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, FILE);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify({ voters }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
