// Snapshot bytes of the KV state machine: msgpack (the runtime codec) of a versioned, compact
// tuple layout. Restore validates every field (the bytes may come from a peer) and rebuilds what
// is derived: the sorted key list, live counts, lease key sets and the compaction write list.
import { decode, encode } from '../runtime/base.js';
import { KvError } from './errors.js';
import { DEFAULT_SPACE_LIMITS, validateSpaceLimits } from './limits.js';
import { Space, type Lease, type Version } from './state-machine-space.js';
import type { KvValue, SpaceLimits } from './types.js';

const FORMAT = 1;

export interface MachineState {
  readonly applied: number;
  readonly now: number;
  readonly spaces: readonly Space[];
}

type VersionTuple = [KvValue | null, number, number, number, number];

export function snapshotState(state: MachineState): Uint8Array {
  return encode([
    FORMAT,
    state.applied,
    state.now,
    state.spaces.map((s) => [
      s.name,
      s.limits,
      s.revision,
      s.compactRevision,
      s.keys.map((key) => [
        key,
        (s.history.get(key) as Version[]).map((v): VersionTuple => [
          v.value,
          v.createRevision,
          v.modRevision,
          v.version,
          v.lease,
        ]),
      ]),
      [...s.leases.values()].sort((a, b) => a.id - b.id).map((l) => [l.id, l.ttlMs, l.deadline]),
    ]),
  ]);
}

const bad = (what: string): KvError => new KvError('ERR_KV_BAD_SNAPSHOT', `KV snapshot: ${what}`);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function asValue(x: unknown): KvValue | null {
  if (x === null || typeof x === 'string') return x;
  if (x instanceof Uint8Array) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw bad('a value is a string or bytes');
}

function restoreSpace(raw: unknown): Space {
  if (!Array.isArray(raw) || raw.length !== 6) throw bad('a space is a 6-tuple');
  const [name, limits, revision, compactRevision, keys, leases] = raw as unknown[];
  if (typeof name !== 'string' || name.length === 0) throw bad('a space has a name');
  if (typeof limits !== 'object' || limits === null) throw bad('a space has limits');
  const full = { ...DEFAULT_SPACE_LIMITS, ...(limits as Partial<SpaceLimits>) };
  try {
    validateSpaceLimits(full);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!isNat(revision) || !isNat(compactRevision) || compactRevision > revision) throw bad('bad revisions');
  const s = new Space(name, Object.freeze(full));
  s.revision = revision;
  s.compactRevision = compactRevision;
  if (!Array.isArray(keys) || !Array.isArray(leases)) throw bad('keys and leases are lists');
  for (const entry of leases as unknown[]) {
    if (!Array.isArray(entry) || !entry.every(isNat) || entry.length !== 3) throw bad('a lease is [id, ttl, deadline]');
    const [id, ttlMs, deadline] = entry as [number, number, number];
    const lease: Lease = { id, ttlMs, deadline, keys: new Set() };
    s.leases.set(id, lease);
  }
  let last: string | null = null;
  for (const entry of keys as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
      throw bad('a key is [key, versions]');
    const key = entry[0] as string;
    if (last !== null && !(last < key)) throw bad('keys are sorted and unique');
    last = key;
    const versions: Version[] = [];
    let prevRev = 0;
    for (const t of entry[1] as unknown[]) {
      if (!Array.isArray(t) || t.length !== 5) throw bad('a version is a 5-tuple');
      const value = asValue(t[0]);
      const [, createRevision, modRevision, version, lease] = t as unknown[];
      if (![createRevision, modRevision, version, lease].every(isNat)) throw bad('version fields are integers');
      if ((modRevision as number) <= prevRev || (modRevision as number) > revision) throw bad('versions go forward');
      prevRev = modRevision as number;
      versions.push({
        value,
        createRevision: createRevision as number,
        modRevision: modRevision as number,
        version: version as number,
        lease: lease as number,
      });
    }
    if (versions.length === 0) throw bad('a key has a version');
    s.keys.push(key);
    s.history.set(key, versions);
    const top = versions[versions.length - 1] as Version;
    if (top.value !== null) {
      s.live++;
      if (top.lease !== 0) {
        const lease = s.leases.get(top.lease);
        if (lease === undefined) throw bad(`key ${JSON.stringify(key)} names lease ${top.lease}, which is not there`);
        lease.keys.add(key);
      }
    }
  }
  s.rebuildWrites();
  return s;
}

/** Decodes and validates snapshot bytes; throws KvError ERR_KV_BAD_SNAPSHOT. */
export function restoreState(bytes: Uint8Array): MachineState {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!Array.isArray(raw) || raw.length !== 4) throw bad('not a KV snapshot');
  const [format, applied, now, spaces] = raw as unknown[];
  if (format !== FORMAT) throw bad(`format ${String(format)} is not ${FORMAT}`);
  if (!isNat(applied) || !isNat(now) || !Array.isArray(spaces)) throw bad('bad header');
  const restored = (spaces as unknown[]).map(restoreSpace);
  if (new Set(restored.map((s) => s.name)).size !== restored.length) throw bad('two spaces share a name');
  return { applied, now, spaces: restored };
}
