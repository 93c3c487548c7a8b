// Shape checks for what comes from outside: the engine must never crash on what a peer sends
// or a host proposes, so every field it reads is checked once here. Returns a reason (or a typed
// error for proposals), or null when valid.

import { RaftError } from './errors.js';
import { ENTRY_OVERHEAD_BYTES, type RaftLimits } from './limits.js';
import type { Entry, Membership, Message, Snapshot } from './types.js';

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function membershipProblem(m: unknown): string | null {
  const x = m as Membership | null;
  if (x === null || typeof x !== 'object' || !Array.isArray(x.voters) || !Array.isArray(x.learners))
    return 'bad membership';
  if (!x.voters.every(isId) || !x.learners.every(isId)) return 'bad membership ids';
  return null;
}

function entryProblem(e: unknown): string | null {
  const x = e as Entry | null;
  if (x === null || typeof x !== 'object' || !isIndex(x.index) || !isIndex(x.term)) return 'bad entry';
  switch (x.kind) {
    case 'normal':
      return x.data instanceof Uint8Array ? null : 'entry data is not bytes';
    case 'noop':
      return null;
    case 'config':
      return membershipProblem(x.membership);
    default:
      return 'unknown entry kind';
  }
}

function snapshotProblem(s: unknown): string | null {
  const x = s as Snapshot | null;
  if (x === null || typeof x !== 'object' || !(x.data instanceof Uint8Array)) return 'bad snapshot';
  const meta = x.meta as Snapshot['meta'] | null;
  if (meta === null || typeof meta !== 'object' || !isIndex(meta.index) || !isIndex(meta.term))
    return 'bad snapshot meta';
  return membershipProblem(meta.membership);
}

export function messageProblem(m: unknown): string | null {
  const x = m as Message | null;
  if (x === null || typeof x !== 'object') return 'message is not an object';
  if (!isId(x.from) || !isId(x.to) || !isIndex(x.term)) return 'bad header';
  switch (x.type) {
    case 'append': {
      if (!isIndex(x.prevIndex) || !isIndex(x.prevTerm) || !isIndex(x.commit) || !Array.isArray(x.entries))
        return 'bad append';
      let i = x.prevIndex;
      for (const e of x.entries as unknown[]) {
        const p = entryProblem(e);
        if (p !== null) return p;
        const entry = e as Entry;
        if (entry.index !== ++i || entry.term > x.term) return 'append entries out of order';
      }
      return null;
    }
    case 'appendResp':
      return typeof x.reject === 'boolean' && isIndex(x.index) && isIndex(x.hintIndex) && isIndex(x.hintTerm)
        ? null
        : 'bad appendResp';
    case 'heartbeat':
      return isIndex(x.commit) && isIndex(x.readSeq) ? null : 'bad heartbeat';
    case 'heartbeatResp':
      return isIndex(x.readSeq) ? null : 'bad heartbeatResp';
    case 'vote':
      return typeof x.pre === 'boolean' &&
        typeof x.transfer === 'boolean' &&
        isIndex(x.lastIndex) &&
        isIndex(x.lastTerm)
        ? null
        : 'bad vote';
    case 'voteResp':
      return typeof x.pre === 'boolean' && typeof x.granted === 'boolean' ? null : 'bad voteResp';
    case 'snapshot':
      return snapshotProblem(x.snapshot);
    case 'timeoutNow':
      return null;
    case 'readIndex':
      return typeof x.readId === 'string' || typeof x.readId === 'number' ? null : 'bad readIndex';
    case 'readIndexResp':
      return (typeof x.readId === 'string' || typeof x.readId === 'number') && isIndex(x.index)
        ? null
        : 'bad readIndexResp';
    default:
      return 'unknown message type';
  }
}

/** The bytes a batch of proposed commands adds to the log, or why it is not a valid batch. */
export function proposalBytes(commands: readonly Uint8Array[], limits: RaftLimits): number | RaftError {
  if (!Array.isArray(commands) || commands.length === 0 || commands.length > limits.maxProposalEntries) {
    return new RaftError('ERR_RAFT_BAD_PROPOSAL', `a batch holds 1..${limits.maxProposalEntries} commands`);
  }
  let bytes = 0;
  for (const c of commands) {
    if (!(c instanceof Uint8Array) || c.byteLength > limits.maxEntryBytes) {
      return new RaftError(
        'ERR_RAFT_BAD_PROPOSAL',
        `a command is a Uint8Array of at most ${limits.maxEntryBytes} bytes`,
      );
    }
    bytes += c.byteLength + ENTRY_OVERHEAD_BYTES;
  }
  return bytes;
}
