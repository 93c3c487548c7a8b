// What Cluster.start takes, and its validation. Every mistake is ERR_BAD_CONFIG naming the bad
// option, before anything is started (nothing to undo).
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Meter } from '@opentelemetry/api';
import { TroupeError, validateNodeName, type Clock } from '../runtime/index.js';
import type { TlsOptions, Transport } from '../internode/index.js';
import type { ProcessGroupsOptions } from '../pg/index.js';
import type { EventualRegistryHostOptions } from '../registry/index.js';
import { checkReconcileOptions, raftHostLimits } from '../raft/host/index.js';
import { resolveAdminOptions, type AdminOptions, type ResolvedAdminOptions } from '../admin/index.js';
import { DEFAULT_CLUSTER_NAME, CLUSTER_STOP_TIMEOUT_MS, MAX_STOP_TIMEOUT_MS, MIN_SECRET_BYTES } from './limits.js';

export interface ClusterOptions {
  /** This node's name, unique in the cluster: [A-Za-z0-9_@.:-], at most 255 characters. */
  readonly name: string;
  /** Nodes of another cluster are refused. Default 'troupe'. */
  readonly cluster?: string;
  /**
   * The shared cluster secret (at least 16 bytes once trimmed), required when `listen` or
   * `seeds` is given. Trimmed of surrounding whitespace, as the CLI trims a cookie file.
   */
  readonly secret?: string | Uint8Array;
  /** `host:port` to accept peers on (port 0 picks one). Without listen and seeds, the node is alone. */
  readonly listen?: string;
  /** Addresses of nodes to join through. */
  readonly seeds?: readonly string[];
  /** The address peers dial; defaults to the bound listen address. */
  readonly advertise?: string;
  readonly tls?: TlsOptions;
  /** The local IP address to dial peers from (default: the system's choice). */
  readonly dialFrom?: string;
  /** A pino logger; by default warnings and errors go to stderr. `false` silences every log. */
  readonly logger?: Logger | false;
  readonly clock?: Clock;
  /** An OpenTelemetry meter (the global one by default; a no-op unless an SDK is installed). */
  readonly meter?: Meter;
  /** Options of the process groups (`false`: do not run them). */
  readonly pg?: Omit<ProcessGroupsOptions, 'node' | 'internode' | 'logger' | 'meter'> | false;
  /** Options of the eventual name registry (`false`: do not run it). */
  readonly eventual?: Omit<EventualRegistryHostOptions, 'node' | 'internode' | 'logger' | 'meter'> | false;
  /**
   * Run the Raft host (the consistent tier: KV, consistent names, your own tenants): its log
   * lives in `dataDir` (LMDB, fsync on). A new cluster's groups are founded either by `voters`
   * (names, the same list on every founder) or by the first `expect` nodes to meet (a count).
   * Groups are added with `cluster.addGroup`.
   */
  readonly raft?: RaftClusterOptions;
  /** The replicated KV store (`cluster.kv`), on by default with `raft`; `false` turns it off. */
  readonly kv?: false;
  /**
   * The admin HTTP server (health, /metrics, JSON views, KV over HTTP, the dashboard); off by
   * default. With it and no `meter`, the node's instruments report to the admin's own SDK.
   */
  readonly admin?: AdminOptions;
  /** Bound on each subsystem's stop (ms). */
  readonly stopTimeoutMs?: number;
  /** Advanced: the internode transport (tests pass an in-memory one). */
  readonly transport?: Transport;
  /** Advanced: internode failure-detector timings. */
  readonly heartbeatIntervalMs?: number;
  readonly downAfterMs?: number;
}

export interface RaftClusterOptions {
  readonly dataDir: string;
  /** The founding voters by name (an odd number). Give this or `expect`. */
  readonly voters?: readonly string[];
  /**
   * Found with the first `expect` nodes that meet (an odd number), or adopt the founders from a
   * peer that knows them. Start exactly that many new nodes at once; later ones join.
   */
  readonly expect?: number;
  /** Most voters a group grows to (odd; default 5): the other nodes are learners. */
  readonly maxVoters?: number;
  /** A member down this long leaves the configuration (ms; default 30 s). */
  readonly voterGraceMs?: number;
}

export interface ResolvedClusterOptions extends Omit<ClusterOptions, 'secret' | 'admin'> {
  readonly cluster: string;
  readonly admin?: ResolvedAdminOptions;
  readonly secret?: Buffer;
  readonly stopTimeoutMs: number;
  /** Whether this node talks to others at all. */
  readonly networked: boolean;
}

const bad = (option: string, what: string): TroupeError =>
  Object.assign(new TroupeError('ERR_BAD_CONFIG', `${option}: ${what}`), { option });

/** The secret as the CLI reads a cookie: UTF-8, surrounding whitespace trimmed. */
export function trimSecret(secret: string | Uint8Array): Buffer {
  const text = typeof secret === 'string' ? secret : Buffer.from(secret).toString('utf8');
  return Buffer.from(text.trim(), 'utf8');
}

export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  if (typeof options !== 'object' || options === null) throw bad('options', 'Cluster.start takes an options object');
  try {
    validateNodeName(options.name);
  } catch (e) {
    throw bad('name', (e as Error).message);
  }
  const cluster = options.cluster ?? DEFAULT_CLUSTER_NAME;
  if (typeof cluster !== 'string' || cluster.length === 0) throw bad('cluster', 'a cluster name is a non-empty string');
  if (options.seeds !== undefined && !Array.isArray(options.seeds))
    throw bad('seeds', 'seeds is an array of host:port addresses');
  const networked = options.listen !== undefined || (options.seeds?.length ?? 0) > 0;
  let secret: Buffer | undefined;
  if (networked) {
    if (options.secret === undefined || options.secret === null)
      throw bad('secret', 'a cluster secret is required to listen or join (at least 16 bytes)');
    if (typeof options.secret !== 'string' && !(options.secret instanceof Uint8Array))
      throw bad('secret', 'the secret is a string or bytes');
    secret = trimSecret(options.secret);
    if (secret.length < MIN_SECRET_BYTES)
      throw bad('secret', `the cluster secret must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.length})`);
  }
  if (options.dialFrom !== undefined && (typeof options.dialFrom !== 'string' || isIP(options.dialFrom) === 0))
    throw bad('dialFrom', `expected an IP address, got ${JSON.stringify(options.dialFrom)}`);
  if (options.raft !== undefined) {
    const r = options.raft as { dataDir?: unknown; voters?: unknown; expect?: unknown };
    if (typeof r.dataDir !== 'string' || r.dataDir.length === 0)
      throw bad('raft.dataDir', 'a directory path is required');
    if ((r.voters === undefined) === (r.expect === undefined))
      throw bad('raft.voters', 'give the founding voters by name (voters) or by count (expect), not both');
    if (r.expect !== undefined) {
      const n = r.expect;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n % 2 === 0 || n > raftHostLimits.MAX_FOUNDERS)
        throw bad('raft.expect', `an odd number of founding voters, 1..${raftHostLimits.MAX_FOUNDERS}`);
    } else if (!Array.isArray(r.voters) || r.voters.length === 0 || r.voters.length % 2 === 0)
      throw bad('raft.voters', 'an odd number (1, 3, 5 …) of founding voter names');
    else if (r.voters.length > raftHostLimits.MAX_FOUNDERS)
      throw bad('raft.voters', `at most ${raftHostLimits.MAX_FOUNDERS} founding voters`);
    for (const v of (r.voters ?? []) as unknown[])
      try {
        validateNodeName(v as string);
      } catch (e) {
        throw bad('raft.voters', (e as Error).message);
      }
    if (Array.isArray(r.voters) && new Set(r.voters).size !== r.voters.length)
      throw bad('raft.voters', 'a voter is named twice');
    const { maxVoters, voterGraceMs } = options.raft;
    for (const [option, check] of [
      ['raft.maxVoters', { maxVoters: maxVoters ?? raftHostLimits.DEFAULT_MAX_VOTERS, graceMs: 0 }],
      ['raft.voterGraceMs', { maxVoters: 1, graceMs: voterGraceMs ?? raftHostLimits.DEFAULT_VOTER_GRACE_MS }],
    ] as const)
      try {
        checkReconcileOptions(check);
      } catch (e) {
        throw bad(option, (e as Error).message);
      }
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? CLUSTER_STOP_TIMEOUT_MS;
  if (!Number.isFinite(stopTimeoutMs) || stopTimeoutMs <= 0 || stopTimeoutMs > MAX_STOP_TIMEOUT_MS)
    throw bad('stopTimeoutMs', `a stop bound is 1..${MAX_STOP_TIMEOUT_MS} ms`);
  const admin = options.admin !== undefined ? resolveAdminOptions(options.admin) : undefined;
  const { secret: _given, admin: _admin, ...rest } = options;
  return {
    ...rest,
    ...(admin !== undefined ? { admin } : {}),
    cluster,
    ...(secret !== undefined ? { secret } : {}),
    stopTimeoutMs,
    networked,
  };
}
