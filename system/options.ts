// What Cluster.start takes, and its validation. Every mistake is ERR_BAD_CONFIG naming the bad
// option, before anything is started (nothing to undo).
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Meter } from '@opentelemetry/api';
import { TroupeError, validateNodeName, type Clock } from '../runtime/index.js';
import type { TlsOptions, Transport } from '../internode/index.js';
import type { ProcessGroupsOptions } from '../pg/index.js';
import type { EventualRegistryHostOptions } from '../registry/index.js';
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
   * lives in `dataDir` (LMDB, fsync on); `voters` names the founding voters of a new cluster,
   * the same list on every founder. Groups are added with `cluster.raft.addGroup`.
   */
  readonly raft?: { readonly dataDir: string; readonly voters: readonly string[] };
  /** Bound on each subsystem's stop (ms). */
  readonly stopTimeoutMs?: number;
  /** Advanced: the internode transport (tests pass an in-memory one). */
  readonly transport?: Transport;
  /** Advanced: internode failure-detector timings. */
  readonly heartbeatIntervalMs?: number;
  readonly downAfterMs?: number;
}

export interface ResolvedClusterOptions extends Omit<ClusterOptions, 'secret'> {
  readonly cluster: string;
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
    const r = options.raft as { dataDir?: unknown; voters?: unknown };
    if (typeof r.dataDir !== 'string' || r.dataDir.length === 0)
      throw bad('raft.dataDir', 'a directory path is required');
    if (!Array.isArray(r.voters) || r.voters.length === 0 || r.voters.length % 2 === 0)
      throw bad('raft.voters', 'an odd number (1, 3, 5 …) of founding voter names');
    for (const v of r.voters as unknown[])
      try {
        validateNodeName(v as string);
      } catch (e) {
        throw bad('raft.voters', (e as Error).message);
      }
    if (new Set(r.voters).size !== r.voters.length) throw bad('raft.voters', 'a voter is named twice');
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? CLUSTER_STOP_TIMEOUT_MS;
  if (!Number.isFinite(stopTimeoutMs) || stopTimeoutMs <= 0 || stopTimeoutMs > MAX_STOP_TIMEOUT_MS)
    throw bad('stopTimeoutMs', `a stop bound is 1..${MAX_STOP_TIMEOUT_MS} ms`);
  const { secret: _given, ...rest } = options;
  return {
    ...rest,
    cluster,
    ...(secret !== undefined ? { secret } : {}),
    stopTimeoutMs,
    networked,
  };
}
