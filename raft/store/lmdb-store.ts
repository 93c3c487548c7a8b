// The durable LogStore: one LMDB environment per node, two named databases per group (its
// entries by index, and its hard state and snapshot). Every persist is one LMDB transaction,
// awaited until flushed to disk; lmdb-js batches the transactions started in one turn into one
// commit, so one fsync covers every group's write of that turn (group commit).

import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { RaftError } from '../errors.js';
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../types.js';
import { MAX_STORE_GROUPS, STORE_FORMAT_VERSION } from './limits.js';
import { EMPTY_HARD_STATE, type GroupId, type GroupWrite, type LogStore, type StoredLog } from './log-store.js';
import { validateGroupId, validateSnapshotKeep, validateStoredLog } from './validate.js';

export interface LmdbLogStoreOptions {
  /** The node's data directory (created when missing). */
  readonly dir: string;
  /** The node this directory belongs to: a directory of another node is refused. */
  readonly nodeId: string;
  /** The cluster it belongs to, when known: a directory of another cluster is refused. */
  readonly cluster?: string;
}

export interface LmdbLogStoreCounters {
  /** persist() calls that completed (each awaited one flush; concurrent ones share it). */
  persists: number;
  writes: number;
  entries: number;
  snapshots: number;
}

const DATA_FILE = 'raft.mdb';
/** LMDB's two meta pages at the smallest page size: a shorter file was never a whole env. */
const MIN_FILE_BYTES = 2 * 4096;
// Where the LMDB build lmdb-js ships puts its meta page fields (checked against its files):
// the magic after the 24-byte page header, the page size in the free-list db record.
const META_MAGIC = 0xbeefc0de;
const META_MAGIC_OFFSET = 24;
const META_PAGE_SIZE_OFFSET = 48;

interface Identity {
  readonly format: number;
  readonly nodeId: string;
  readonly cluster: string | null;
}

interface GroupDbs {
  readonly log: Database<Entry, number>;
  readonly state: Database<unknown, string>;
}

export class LmdbLogStore implements LogStore {
  readonly counters: LmdbLogStoreCounters = { persists: 0, writes: 0, entries: 0, snapshots: 0 };
  private readonly env: RootDatabase<unknown, string>;
  private readonly dbs = new Map<GroupId, GroupDbs>();
  private readonly known: Set<GroupId>;
  private closed = false;

  /** Open (or create) the store in `options.dir`; refuses a corrupt or foreign directory. */
  static open(options: LmdbLogStoreOptions): LmdbLogStore {
    if (typeof options.nodeId !== 'string' || options.nodeId.length === 0) {
      throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'nodeId must be a non-empty string');
    }
    mkdirSync(options.dir, { recursive: true });
    const file = join(options.dir, DATA_FILE);
    if (existsSync(file)) checkMetaPages(file);
    let env: RootDatabase<unknown, string>;
    try {
      env = open<unknown, string>({ path: file, maxDbs: 2 * MAX_STORE_GROUPS + 1 });
    } catch (err) {
      throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file} cannot be opened: ${(err as Error).message}`);
    }
    // Reading a page past the end of a truncated file kills the process (SIGBUS): check the
    // file holds every page the newest meta page names before reading anything else.
    const stats = env.getStats() as { pageSize: number; lastPageNumber: number };
    const needed = (stats.lastPageNumber + 1) * stats.pageSize;
    const size = statSync(file).size;
    if (size < needed) {
      void env.close();
      throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file} is truncated (${size} of ${needed} bytes)`);
    }
    return new LmdbLogStore(env, options, file);
  }

  private constructor(env: RootDatabase<unknown, string>, options: LmdbLogStoreOptions, file: string) {
    this.env = env;
    const identity = env.get('identity') as Identity | undefined;
    const wanted: Identity = { format: STORE_FORMAT_VERSION, nodeId: options.nodeId, cluster: options.cluster ?? null };
    if (identity === undefined) {
      if (env.getKeysCount() > 0) {
        void env.close();
        throw new RaftError('ERR_RAFT_STORE_FOREIGN', `${file} holds data but no troupe identity`);
      }
      env.putSync('identity', wanted);
      env.putSync('groups', []);
    } else {
      const problem = foreign(identity, wanted);
      if (problem !== null) {
        void env.close();
        throw new RaftError('ERR_RAFT_STORE_FOREIGN', `${file}: ${problem}`);
      }
    }
    const groups = env.get('groups');
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      void env.close();
      throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file}: the group list is malformed`);
    }
    this.known = new Set(groups as string[]);
  }

  groups(): readonly GroupId[] {
    return [...this.known];
  }

  load(group: GroupId): StoredLog {
    this.checkOpen();
    validateGroupId(group);
    if (!this.known.has(group)) return { hardState: EMPTY_HARD_STATE, snapshot: null, entries: [] };
    const { log, state } = this.dbsOf(group);
    const hardState = (state.get('hard') as HardState | undefined) ?? EMPTY_HARD_STATE;
    const meta = state.get('snapMeta') as SnapshotMeta | undefined;
    const data = state.get('snapData') as Uint8Array | undefined;
    if ((meta === undefined) !== (data === undefined)) {
      throw new RaftError('ERR_RAFT_STORE_CORRUPT', `group ${group}: snapshot metadata without data`);
    }
    const snapshot = meta === undefined ? null : { meta, data: copyBytes(data!) };
    const entries: Entry[] = [];
    for (const { value } of log.getRange({})) entries.push(copyEntry(value));
    const stored = { hardState, snapshot, entries };
    validateStoredLog(group, stored);
    return stored;
  }

  async persist(writes: readonly GroupWrite[]): Promise<void> {
    this.checkOpen();
    for (const { group } of writes) validateGroupId(group);
    const fresh = [...new Set(writes.map((w) => w.group))].filter((g) => !this.known.has(g));
    if (this.known.size + fresh.length > MAX_STORE_GROUPS) {
      throw new RaftError('ERR_RAFT_BAD_OPTIONS', `a store holds at most ${MAX_STORE_GROUPS} groups`);
    }
    for (const g of fresh) this.dbsOf(g);
    await this.env.transaction(() => {
      if (fresh.length > 0) {
        for (const g of fresh) this.known.add(g);
        void this.env.put('groups', [...this.known]);
      }
      for (const { group, write } of writes) {
        const { log, state } = this.dbsOf(group);
        if (write.snapshot !== null) {
          for (const key of [...log.getKeys({})]) void log.remove(key);
          void state.put('snapMeta', write.snapshot.meta);
          void state.put('snapData', write.snapshot.data);
        }
        if (write.entries.length > 0) {
          const first = (write.entries[0] as Entry).index;
          for (const key of [...log.getKeys({ start: first })]) void log.remove(key);
          for (const e of write.entries) void log.put(e.index, e);
        }
        if (write.hardState !== null) void state.put('hard', write.hardState);
      }
    });
    await this.env.flushed;
    this.counters.persists++;
    this.counters.writes += writes.length;
    for (const { write } of writes) this.counters.entries += write.entries.length;
  }

  async saveSnapshot(group: GroupId, snapshot: Snapshot, keepFrom?: number): Promise<void> {
    this.checkOpen();
    validateGroupId(group);
    validateSnapshotKeep(snapshot, keepFrom);
    const fresh = !this.known.has(group);
    const { log, state } = this.dbsOf(group);
    await this.env.transaction(() => {
      if (fresh) {
        this.known.add(group);
        void this.env.put('groups', [...this.known]);
      }
      void state.put('snapMeta', snapshot.meta);
      void state.put('snapData', snapshot.data);
      const end = keepFrom ?? snapshot.meta.index + 1;
      for (const key of [...log.getKeys({ end })]) void log.remove(key);
    });
    await this.env.flushed;
    this.counters.snapshots++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }

  private dbsOf(group: GroupId): GroupDbs {
    let dbs = this.dbs.get(group);
    if (dbs === undefined) {
      dbs = {
        log: this.env.openDB<Entry, number>(`log:${group}`, {}),
        state: this.env.openDB<unknown, string>(`state:${group}`, {}),
      };
      this.dbs.set(group, dbs);
    }
    return dbs;
  }

  private checkOpen(): void {
    if (this.closed) throw new RaftError('ERR_RAFT_STORE_CLOSED', 'the log store is closed');
  }
}

/**
 * LMDB trusts its meta pages: a garbled or short file makes it read past the end of the map and
 * the process dies (SIGBUS). Check both meta pages look like LMDB's before opening.
 */
function checkMetaPages(file: string): void {
  const size = statSync(file).size;
  if (size < MIN_FILE_BYTES) throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file} is truncated (${size} bytes)`);
  const head = Buffer.alloc(MIN_FILE_BYTES);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, MIN_FILE_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const pageSize = head.readUInt32LE(META_PAGE_SIZE_OFFSET);
  const validSize = pageSize >= 4096 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
  if (head.readUInt32LE(META_MAGIC_OFFSET) !== META_MAGIC || !validSize) {
    throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file} is not an LMDB environment`);
  }
  if (size < 2 * pageSize) throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file} is truncated (${size} bytes)`);
  const second = Buffer.alloc(4);
  const fd2 = openSync(file, 'r');
  try {
    readSync(fd2, second, 0, 4, pageSize + META_MAGIC_OFFSET);
  } finally {
    closeSync(fd2);
  }
  if (second.readUInt32LE(0) !== META_MAGIC) {
    throw new RaftError('ERR_RAFT_STORE_CORRUPT', `${file}: the second meta page is garbled`);
  }
}

function foreign(found: Identity, wanted: Identity): string | null {
  if (found.format !== wanted.format) return `store format ${String(found.format)}, expected ${wanted.format}`;
  if (found.nodeId !== wanted.nodeId) return `belongs to node ${JSON.stringify(found.nodeId)}, not ${wanted.nodeId}`;
  if (found.cluster !== null && wanted.cluster !== null && found.cluster !== wanted.cluster) {
    return `belongs to cluster ${JSON.stringify(found.cluster)}, not ${wanted.cluster}`;
  }
  return null;
}

/** Values read from LMDB may share its buffers: the engine keeps entries, so copy them out. */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function copyEntry(e: Entry): Entry {
  return e.kind === 'normal' ? { ...e, data: copyBytes(e.data) } : e;
}
