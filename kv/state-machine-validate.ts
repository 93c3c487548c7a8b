// Shape checks for commands: a command comes out of the Raft log as decoded msgpack, so apply
// checks its shape before it touches state (a malformed entry is a typed error result on every
// replica alike, never a throw). Limits that depend on a space are checked by apply itself.
import { MAX_SPACE_NAME_LENGTH } from './limits.js';
import type { KvCommand } from './types.js';

type Obj = Record<string, unknown>;

const show = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x.slice(0, 40)) : typeof x);

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isValue = (x: unknown): boolean => typeof x === 'string' || x instanceof Uint8Array;
const isSpace = (x: unknown): boolean => typeof x === 'string' && x.length > 0 && x.length <= MAX_SPACE_NAME_LENGTH;

function txnOpProblem(op: unknown): string | null {
  if (!isObj(op)) return 'a txn operation is an object';
  switch (op.op) {
    case 'put':
      if (typeof op.key !== 'string' || !isValue(op.value)) return 'a txn put has a key and a value';
      if (op.lease !== undefined && !isNat(op.lease)) return 'a lease is a lease id';
      return null;
    case 'delete':
      if (typeof op.key === 'string' && op.prefix === undefined) return null;
      if (typeof op.prefix === 'string' && op.key === undefined) return null;
      return 'a txn delete has a key or a prefix';
    case 'get':
      return typeof op.key === 'string' ? null : 'a txn get has a key';
    default:
      return `unknown txn operation ${show(op.op)}`;
  }
}

function compareProblem(c: unknown): string | null {
  if (!isObj(c) || typeof c.key !== 'string') return 'a compare has a key';
  if (!['value', 'version', 'createRevision', 'modRevision', 'lease'].includes(c.target as string))
    return `unknown compare target ${show(c.target)}`;
  if (!['==', '!=', '<', '>'].includes(c.op as string)) return `unknown compare op ${show(c.op)}`;
  if (c.target === 'value' ? !isValue(c.against) : !isNat(c.against))
    return `a ${String(c.target)} compare is against a ${c.target === 'value' ? 'value' : 'number'}`;
  return null;
}

/** What is wrong with the shape of `cmd`, or null when it is a well-formed KvCommand. */
export function commandProblem(cmd: unknown): string | null {
  if (!isObj(cmd)) return 'a command is an object';
  const needsSpace = cmd.type !== 'expire-leases' && cmd.type !== 'leader-changed';
  if (needsSpace && !isSpace(cmd.space)) return `a space name is 1 to ${MAX_SPACE_NAME_LENGTH} characters`;
  switch (cmd.type) {
    case 'space-define':
      return cmd.limits === undefined || isObj(cmd.limits) ? null : 'limits is an object';
    case 'put':
      if (typeof cmd.key !== 'string' || !isValue(cmd.value)) return 'a put has a key and a value';
      if (cmd.lease !== undefined && !isNat(cmd.lease)) return 'a lease is a lease id';
      if (cmd.prevRevision !== undefined && !isNat(cmd.prevRevision)) return 'prevRevision is a revision';
      return null;
    case 'delete':
      if (typeof cmd.key === 'string' && cmd.prefix === undefined) return null;
      if (typeof cmd.prefix === 'string' && cmd.key === undefined) return null;
      return 'a delete has a key or a prefix';
    case 'cas': {
      if (typeof cmd.key !== 'string' || !isValue(cmd.value)) return 'a cas has a key and a value';
      if (cmd.lease !== undefined && !isNat(cmd.lease)) return 'a lease is a lease id';
      const e = cmd.expected;
      if (!isObj(e)) return 'a cas has an expectation';
      const kinds = ['value', 'modRevision', 'absent'].filter((k) => e[k] !== undefined);
      if (kinds.length !== 1) return 'a cas expects a value, a modRevision, or absent';
      if (e.value !== undefined && !isValue(e.value)) return 'an expected value is a value';
      if (e.modRevision !== undefined && !isNat(e.modRevision)) return 'an expected modRevision is a revision';
      if (e.absent !== undefined && e.absent !== true) return 'absent is true';
      return null;
    }
    case 'txn': {
      if (!Array.isArray(cmd.compare) || !Array.isArray(cmd.success) || !Array.isArray(cmd.failure))
        return 'a txn has compare, success and failure lists';
      for (const c of cmd.compare) {
        const p = compareProblem(c);
        if (p !== null) return p;
      }
      for (const op of [...(cmd.success as unknown[]), ...(cmd.failure as unknown[])]) {
        const p = txnOpProblem(op);
        if (p !== null) return p;
      }
      return null;
    }
    case 'lease-grant':
      return isNat(cmd.ttlMs) && isNat(cmd.now) ? null : 'a lease grant has ttlMs and now';
    case 'lease-revoke':
      return isNat(cmd.id) ? null : 'a lease revoke has an id';
    case 'lease-keepalive':
      return isNat(cmd.id) && isNat(cmd.now) ? null : 'a lease keepalive has an id and now';
    case 'expire-leases':
      return isNat(cmd.now) ? null : 'expire-leases has now';
    case 'leader-changed':
      return isNat(cmd.now) && isNat(cmd.electionMs) ? null : 'leader-changed has now and electionMs';
    case 'compact':
      return isNat(cmd.revision) ? null : 'a compact has a revision';
    default:
      return `unknown command type ${show(cmd.type)}`;
  }
}

/** `cmd` as a KvCommand, or the problem with it. */
export function asCommand(cmd: unknown): KvCommand | string {
  return commandProblem(cmd) ?? (cmd as KvCommand);
}
