// KV over HTTP: GET/PUT/DELETE /v1/kv/{space}/{key}, scans with `?prefix=` (a page and the
// `after` to continue with), CAS through `If-Match: <modRevision>` (and `If-None-Match: *` for
// create-if-absent), and `?watch` as Server-Sent Events. Reads are open; writes need the bearer
// token. Values travel as text, or as base64 with `encoding: "base64"` for bytes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from '../system/index.js';
import { KvError, type KeyValue, type KvSpace, type KvStore, type KvValue } from '../kv/index.js';
import { AdminHttpError, badRequest, unavailable } from './errors.js';
import { header, parseJson, parseLimit, parseRevision, readBody, requireToken, sendJson } from './http.js';
import { KV_CALL_TIMEOUT_MS, MAX_HTTP_SCAN_LIMIT } from './limits.js';
import type { EventStreams } from './sse.js';

export interface KvRouteContext {
  readonly cluster: Cluster;
  readonly token: Buffer | null;
  readonly streams: EventStreams;
}

/** A key as JSON: its value as text, or base64 for bytes. */
export function keyJson(kv: KeyValue) {
  const bytes = typeof kv.value !== 'string';
  return {
    key: kv.key,
    value: bytes ? Buffer.from(kv.value).toString('base64') : kv.value,
    ...(bytes ? { encoding: 'base64' } : {}),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

const ALLOWED = 'GET, PUT, DELETE';

function storeOf(cluster: Cluster): KvStore {
  try {
    return cluster.kv;
  } catch {
    throw unavailable('the KV store is off on this node (start it with raft)');
  }
}

/** `rest` is the path after /v1/kv/: `{space}` or `{space}/{key…}` (each segment percent-encoded). */
export async function kvRoute(ctx: KvRouteContext, req: IncomingMessage, res: ServerResponse, url: URL, rest: string) {
  const slash = rest.indexOf('/');
  const space = decode(slash < 0 ? rest : rest.slice(0, slash), 'space');
  const key = slash < 0 ? null : decode(rest.slice(slash + 1), 'key');
  if (space.length === 0) throw badRequest('a KV path is /v1/kv/{space}/{key}');
  if (key !== null && key.length === 0 && !url.searchParams.has('prefix'))
    throw badRequest('an empty key: use /v1/kv/{space}?prefix= to scan');
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    const kv = storeOf(ctx.cluster);
    if (url.searchParams.has('watch')) return watch(ctx, req, res, url, kv.space(space), key);
    return key === null || key.length === 0 ? scan(res, url, kv, space) : get(res, url, kv, space, key);
  }
  if (method === 'PUT' || method === 'DELETE') {
    requireToken(req, ctx.token);
    const kv = storeOf(ctx.cluster);
    if (method === 'PUT') {
      if (key === null || key.length === 0) throw badRequest('PUT needs a key: /v1/kv/{space}/{key}');
      return put(req, res, kv.space(space), key);
    }
    return del(req, res, url, kv.space(space), key);
  }
  throw new AdminHttpError('ERR_ADMIN_METHOD', 405, `${method} is not a KV method (${ALLOWED})`, {
    allow: ALLOWED,
  });
}

function decode(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`the ${what} is not percent-encoded UTF-8`);
  }
}

function readOptions(url: URL) {
  const revision = url.searchParams.get('revision');
  const consistency = url.searchParams.get('consistency');
  if (consistency !== null && consistency !== 'local' && consistency !== 'linearizable')
    throw badRequest(`consistency is linearizable or local, got ${JSON.stringify(consistency)}`);
  return {
    timeout: KV_CALL_TIMEOUT_MS,
    ...(revision !== null ? { revision: parseRevision(revision, 'revision') } : {}),
    ...(consistency !== null ? { consistency: consistency as 'local' | 'linearizable' } : {}),
  };
}

/** After a read: a space that does not exist on the (caught-up) replica is 404 ERR_KV_NO_SPACE. */
function requireSpace(kv: KvStore, space: string): void {
  if (kv.tenant.machine.spaceInfo(space) == null)
    throw new KvError('ERR_KV_NO_SPACE', `no KV space named ${JSON.stringify(space)}`);
}

async function get(res: ServerResponse, url: URL, kv: KvStore, space: string, key: string) {
  const r = await kv.space(space).get(key, readOptions(url));
  if (r.kv === null) {
    requireSpace(kv, space);
    throw new AdminHttpError('ERR_ADMIN_NO_KEY', 404, `no key ${JSON.stringify(key)} in ${space}`, {
      revision: r.revision,
    });
  }
  sendJson(res, 200, { ...keyJson(r.kv), revision: r.revision });
}

async function scan(res: ServerResponse, url: URL, kv: KvStore, space: string) {
  const prefix = url.searchParams.get('prefix') ?? '';
  const after = url.searchParams.get('after');
  const limit = url.searchParams.get('limit');
  const r = await kv.space(space).scan(
    {
      prefix,
      ...(after !== null ? { after } : {}),
      ...(limit !== null ? { limit: parseLimit(limit, MAX_HTTP_SCAN_LIMIT) } : {}),
    },
    readOptions(url),
  );
  if (r.items.length === 0) requireSpace(kv, space);
  sendJson(res, 200, { items: r.items.map(keyJson), revision: r.revision, next: r.next });
}

/** The value of a PUT: a JSON `{ value, encoding?, lease? }`, raw bytes (octet-stream), or text. */
async function valueOf(req: IncomingMessage): Promise<{ value: KvValue; lease?: number }> {
  const body = await readBody(req);
  const type = (header(req, 'content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/octet-stream') return { value: new Uint8Array(body) };
  if (type !== 'application/json') return { value: body.toString('utf8') };
  const json = parseJson(body) as { value?: unknown; encoding?: unknown; lease?: unknown } | null;
  const bad = (what: string) => new AdminHttpError('ERR_ADMIN_BAD_JSON', 400, what);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw bad('a JSON body is an object { "value": "...", "encoding"?: "base64", "lease"?: id }');
  if (typeof json.value !== 'string') throw bad('"value" is a string');
  if (json.encoding !== undefined && json.encoding !== 'base64') throw bad('"encoding" is "base64" when given');
  if (json.lease !== undefined && !(Number.isSafeInteger(json.lease) && (json.lease as number) >= 0))
    throw bad('"lease" is a lease id (an integer >= 0)');
  const value = json.encoding === 'base64' ? new Uint8Array(Buffer.from(json.value, 'base64')) : json.value;
  return { value, ...(json.lease !== undefined ? { lease: json.lease as number } : {}) };
}

/** `If-Match: n` (the key's mod revision must be n) or `If-None-Match: *` (the key must be absent). */
function guardOf(req: IncomingMessage): number | undefined {
  const match = header(req, 'if-match');
  const none = header(req, 'if-none-match');
  if (match !== undefined && none !== undefined) throw badRequest('give If-Match or If-None-Match, not both');
  if (none !== undefined) {
    if (none.trim() !== '*') throw badRequest('If-None-Match takes only * (create if absent)');
    return 0;
  }
  return match === undefined ? undefined : parseRevision(match.replace(/^W\/|"/g, ''), 'If-Match');
}

async function put(req: IncomingMessage, res: ServerResponse, space: KvSpace, key: string) {
  const guard = guardOf(req);
  const { value, lease } = await valueOf(req);
  const r = await space.put(key, value, {
    timeout: KV_CALL_TIMEOUT_MS,
    ...(lease !== undefined ? { lease } : {}),
    ...(guard !== undefined ? { prevRevision: guard } : {}),
  });
  if (!r.ok)
    throw new AdminHttpError('ERR_ADMIN_CAS_FAILED', 412, `${key} is not at the revision expected`, {
      revision: r.revision,
      current: r.current === null ? null : keyJson(r.current),
    });
  sendJson(res, 200, { revision: r.revision, prev: r.prev === null ? null : keyJson(r.prev) });
}

async function del(req: IncomingMessage, res: ServerResponse, url: URL, space: KvSpace, key: string | null) {
  const prefix = url.searchParams.get('prefix');
  const guard = guardOf(req);
  if (key === null || key.length === 0) {
    if (prefix === null) throw badRequest('DELETE needs a key, or ?prefix= to delete every key under a prefix');
    if (guard !== undefined) throw badRequest('If-Match applies to one key, not to a prefix');
    const r = await space.delete({ prefix }, { timeout: KV_CALL_TIMEOUT_MS });
    return sendJson(res, 200, r);
  }
  if (guard === undefined) return sendJson(res, 200, await space.delete(key, { timeout: KV_CALL_TIMEOUT_MS }));
  // A guarded delete is one txn: the compare and the delete at one revision.
  const r = await space.txn(
    {
      compare: [{ key, target: 'modRevision', op: '==', against: guard }],
      success: [{ op: 'delete', key }],
      failure: [{ op: 'get', key }],
    },
    { timeout: KV_CALL_TIMEOUT_MS },
  );
  if (!r.succeeded) {
    const got = r.results[0];
    const current = got !== undefined && got.op === 'get' && got.kv !== null ? keyJson(got.kv) : null;
    throw new AdminHttpError('ERR_ADMIN_CAS_FAILED', 412, `${key} is not at the revision expected`, {
      revision: r.revision,
      current,
    });
  }
  const first = r.results[0];
  sendJson(res, 200, {
    deleted: first !== undefined && first.op === 'delete' ? first.deleted : 0,
    revision: r.revision,
  });
}

function watch(
  ctx: KvRouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  space: KvSpace,
  key: string | null,
) {
  const from = url.searchParams.get('fromRevision');
  const target = key !== null && key.length > 0 ? { key } : { prefix: url.searchParams.get('prefix') ?? '' };
  const fromRevision = from !== null ? parseRevision(from, 'fromRevision') : undefined;
  ctx.streams.open(req, res, () => space.watch(target, fromRevision !== undefined ? { fromRevision } : {}));
}
