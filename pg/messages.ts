// Validation of peer messages. Everything from the wire is untrusted: a message is accepted
// only if its whole shape is right and every pid in it belongs to the sending node incarnation.
import { Pid } from '../runtime/base.js';
import type { PgLimits } from './limits.js';
import type { Group, PgDeltaOp, PgMessage } from './types.js';

export type ParseResult =
  { readonly ok: true; readonly message: PgMessage } | { readonly ok: false; readonly reason: string };

function isVersion(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badPids(value: unknown, from: string, inc: number, max: number): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'pids must be a non-empty array';
  if (value.length > max) return `too many pids (${value.length} > ${max})`;
  for (const pid of value) {
    if (!(pid instanceof Pid)) return 'not a pid';
    if (pid.node !== from || pid.incarnation !== inc)
      return `pid ${pid.toString()} is not of the sender ${from}/${inc}`;
  }
  return undefined;
}

function badGroup(value: unknown, limits: PgLimits): string | undefined {
  if (typeof value !== 'string') return 'group must be a string';
  if (value.length > limits.maxGroupNameLength) return 'group name too long';
  return undefined;
}

/** Check a decoded message received from node `from`. */
export function parsePeerMessage(raw: unknown, from: string, limits: PgLimits): ParseResult {
  const fail = (reason: string): ParseResult => ({ ok: false, reason });
  if (!isRecord(raw)) return fail('not an object');
  const { t, scope, inc, toInc } = raw;
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > limits.maxGroupNameLength)
    return fail('bad scope');
  if (!isVersion(inc) || !isVersion(toInc)) return fail('bad incarnation');
  switch (t) {
    case 'discover':
      return { ok: true, message: { t, scope, inc, toInc } };
    case 'sync': {
      const { version, groups, part, last } = raw;
      if (!isVersion(version)) return fail('bad version');
      if (!isVersion(part) || typeof last !== 'boolean') return fail('bad part');
      if (!Array.isArray(groups) || groups.length > limits.maxGroupsPerScope) return fail('bad groups');
      const seen = new Set<Group>();
      for (const entry of groups as unknown[]) {
        if (!Array.isArray(entry) || entry.length !== 2) return fail('bad group entry');
        const [group, pids] = entry as [unknown, unknown];
        const groupProblem = badGroup(group, limits);
        if (groupProblem !== undefined) return fail(groupProblem);
        if (seen.has(group as Group)) return fail('group listed twice');
        seen.add(group as Group);
        const pidProblem = badPids(pids, from, inc, limits.maxMembersPerGroup);
        if (pidProblem !== undefined) return fail(pidProblem);
      }
      return { ok: true, message: { t, scope, inc, toInc, version, part, last, groups: groups as [Group, Pid[]][] } };
    }
    case 'delta': {
      const { base, version, ops } = raw;
      if (!isVersion(base) || !isVersion(version)) return fail('bad version');
      if (!Array.isArray(ops) || ops.length === 0 || ops.length > limits.maxOpsPerDeltaMessage) return fail('bad ops');
      if (version !== base + ops.length) return fail('version does not match the op count');
      for (const op of ops as unknown[]) {
        if (!Array.isArray(op) || op.length !== 3) return fail('bad op');
        const [kind, group, pids] = op as [unknown, unknown, unknown];
        if (kind !== 'j' && kind !== 'l') return fail('bad op kind');
        const groupProblem = badGroup(group, limits);
        if (groupProblem !== undefined) return fail(groupProblem);
        const pidProblem = badPids(pids, from, inc, limits.maxPidsPerCall);
        if (pidProblem !== undefined) return fail(pidProblem);
      }
      return { ok: true, message: { t, scope, inc, toInc, base, version, ops: ops as PgDeltaOp[] } };
    }
    case 'digest': {
      const { version, count, h1, h2 } = raw;
      if (!isVersion(version) || !isVersion(count)) return fail('bad version or count');
      if (!isU32(h1) || !isU32(h2)) return fail('bad digest');
      return { ok: true, message: { t, scope, inc, toInc, version, count, h1, h2 } };
    }
    default:
      return fail('unknown message type');
  }
}
