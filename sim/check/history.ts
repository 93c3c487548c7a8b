// The operation history format (docs/history-format.md): its types, a strict parser (a
// malformed line rejects the whole history, never a guess) and the writer of one line.

/** Operations of the key-value store. */
export type KvOpName = 'put' | 'get' | 'delete' | 'cas';
/** Operations of the name registry (`whereis` is read as `lookup`). */
export type NameOpName = 'register' | 'unregister' | 'lookup';
export type OpName = KvOpName | NameOpName;

/** How an operation ended: completed, indeterminate (`"timeout"`), or a definite failure. */
export type Outcome = 'ok' | 'timeout' | 'failed';

/** One parsed line. */
export interface HistoryOp {
  /** 1-based line of the file (or position in the array) the operation came from. */
  readonly line: number;
  readonly client: number | string;
  readonly op: OpName;
  readonly key: string;
  /** put/cas: the value written; register/unregister: the owner; otherwise null. */
  readonly value: string | null;
  /** cas by value: the value expected (`null` = absent); undefined for a cas by revision. */
  readonly expect?: string | null;
  /** cas by revision: the mod revision expected (0 = absent). */
  readonly expectRev?: number;
  readonly call: number;
  /** null for an indeterminate operation without a give-up time. */
  readonly ret: number | null;
  readonly outcome: Outcome;
  readonly ok?: boolean;
  /** Completed get/lookup: what was read; refused register: the holder (if reported). */
  readonly read?: string | null;
  readonly rev?: number;
  readonly fence?: number;
  /** The error string of a failed or indeterminate operation. */
  readonly error?: string;
}

export type ParseResult =
  | { readonly ok: true; readonly ops: HistoryOp[] }
  | { readonly ok: false; readonly line: number; readonly reason: string };

const OPS: ReadonlySet<string> = new Set([
  'put',
  'get',
  'delete',
  'cas',
  'register',
  'unregister',
  'lookup',
  'whereis',
]);

class Malformed extends Error {}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

function optionalInt(o: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (!isInt(v) || v < min) throw new Malformed(`"${field}" must be an integer >= ${min}`);
  return v;
}

function optionalString(o: Record<string, unknown>, field: string): string | null | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (v !== null && typeof v !== 'string') throw new Malformed(`"${field}" must be a string or null`);
  return v;
}

/** Reads one decoded JSON value as an operation; throws Malformed with the reason. */
function readOp(raw: unknown, line: number): HistoryOp {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Malformed('not a JSON object');
  const o = raw as Record<string, unknown>;
  const client = o.client;
  if (!(isInt(client) || typeof client === 'string')) throw new Malformed('"client" must be an integer or a string');
  if (typeof o.op !== 'string' || !OPS.has(o.op)) throw new Malformed(`unknown op ${JSON.stringify(o.op)}`);
  const op = (o.op === 'whereis' ? 'lookup' : o.op) as OpName;
  if (typeof o.key !== 'string') throw new Malformed('"key" must be a string');
  if (!isInt(o.call)) throw new Malformed('"call" must be an integer');
  const call = o.call;
  const error = o.error;
  if (error !== undefined && error !== null && typeof error !== 'string')
    throw new Malformed('"error" must be a string or null');
  const outcome: Outcome = error === undefined || error === null ? 'ok' : error === 'timeout' ? 'timeout' : 'failed';
  let ret: number | null = null;
  if (o.ret !== undefined && o.ret !== null) {
    if (!isInt(o.ret)) throw new Malformed('"ret" must be an integer');
    if (o.ret < call) throw new Malformed('"ret" is before "call"');
    ret = o.ret;
  } else if (outcome !== 'timeout') throw new Malformed('"ret" is required unless the operation timed out');
  const value = optionalString(o, 'value') ?? null;
  if ((op === 'put' || op === 'cas' || op === 'register' || op === 'unregister') && value === null)
    throw new Malformed(`"value" is required for ${op}`);
  if (o.ok !== undefined && o.ok !== null && typeof o.ok !== 'boolean') throw new Malformed('"ok" must be a boolean');
  const ok = typeof o.ok === 'boolean' ? o.ok : undefined;
  const result: {
    -readonly [K in keyof HistoryOp]: HistoryOp[K];
  } = { line, client, op, key: o.key, value, call, ret, outcome };
  if (ok !== undefined) result.ok = ok;
  if (outcome !== 'ok') result.error = error as string;
  if (op === 'cas') {
    const hasExpect = 'expect' in o;
    const expectRev = optionalInt(o, 'expectRev', 0);
    if (hasExpect && expectRev !== undefined) throw new Malformed('a cas has "expect" or "expectRev", not both');
    if (!hasExpect && expectRev === undefined) throw new Malformed('a cas needs an "expect" field (or "expectRev")');
    if (hasExpect) result.expect = optionalString(o, 'expect') ?? null;
    else result.expectRev = expectRev;
  }
  const rev = optionalInt(o, 'rev', op === 'get' ? 0 : 1);
  if (rev !== undefined) result.rev = rev;
  const fence = optionalInt(o, 'fence', 1);
  if (fence !== undefined) result.fence = fence;
  if (outcome === 'ok') {
    if ((op === 'put' || op === 'get' || op === 'lookup') && ok === false)
      throw new Malformed(`a completed ${op} cannot have "ok": false (write an "error")`);
    if ((op === 'cas' || op === 'register' || op === 'unregister') && ok === undefined)
      throw new Malformed(`a completed ${op} needs "ok"`);
    if (op === 'get' || op === 'lookup') {
      if (!('read' in o)) throw new Malformed(`a completed ${op} needs "read"`);
      result.read = optionalString(o, 'read') ?? null;
      if (op === 'get' && result.read === null && rev !== undefined && rev !== 0)
        throw new Malformed('a get that read nothing has no revision');
    }
    if (op === 'register' && ok === false && typeof o.read === 'string') result.read = o.read;
  }
  return result;
}

/** Parses decoded objects (e.g. a recorder's entries); positions count from 1. */
export function parseOps(raws: readonly unknown[]): ParseResult {
  const ops: HistoryOp[] = [];
  for (let i = 0; i < raws.length; i++) {
    try {
      ops.push(readOp(raws[i], i + 1));
    } catch (err) {
      if (err instanceof Malformed) return { ok: false, line: i + 1, reason: err.message };
      throw err;
    }
  }
  return { ok: true, ops };
}

/** Parses JSON Lines text; blank lines are skipped (line numbers stay those of the file). */
export function parseHistory(text: string): ParseResult {
  const ops: HistoryOp[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const source = (lines[i] as string).trim();
    if (source === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(source);
    } catch {
      return { ok: false, line: i + 1, reason: 'not JSON' };
    }
    try {
      ops.push(readOp(raw, i + 1));
    } catch (err) {
      if (err instanceof Malformed) return { ok: false, line: i + 1, reason: err.message };
      throw err;
    }
  }
  return { ok: true, ops };
}
