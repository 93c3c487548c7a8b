// The bodies of raft-class frames between hosts. Internode encodes them with msgpack; every
// body read from the wire is untrusted and checked here before anything acts on it. Raft
// messages themselves are checked again by the engine.

import type { Message, SnapshotMeta } from '../types.js';
import { RAFT_ERROR_CODES } from './codes.js';
import { MAX_FOUNDERS } from './limits.js';
import type { RaftErrorCode } from '../../runtime/base.js';

export type WireBody =
  /** A raft message of `group` (any type but snapshot). */
  | { readonly t: 'msg'; readonly g: string; readonly m: Message }
  /** One chunk of a snapshot message; `m` carries the message without its data. */
  | {
      readonly t: 'snap';
      readonly g: string;
      readonly from: string;
      readonly to: string;
      readonly term: number;
      readonly meta: SnapshotMeta;
      readonly x: number;
      readonly seq: number;
      readonly last: boolean;
      readonly chunk: Uint8Array;
    }
  /** "I run this group" (sent when a group starts and to a node that comes up); `ask`: answer me. */
  | { readonly t: 'hi'; readonly g: string; readonly ask: boolean }
  /** Founders query (node level, `g` is '*'): who founded this cluster's groups? */
  | { readonly t: 'fq'; readonly g: string }
  /** Its answer: the founding voters, or null while the answering node searches too. */
  | { readonly t: 'fa'; readonly g: string; readonly voters: readonly string[] | null }
  /** Proposals forwarded by a follower to the leader (which never forwards them again). */
  | { readonly t: 'fwd'; readonly g: string; readonly id: number; readonly cmds: readonly Uint8Array[] }
  /** The leader's answer to a forward: each command's result, or why none was appended. */
  | { readonly t: 'fwdr'; readonly g: string; readonly id: number; readonly ok: true; readonly results: unknown[] }
  | {
      readonly t: 'fwdr';
      readonly g: string;
      readonly id: number;
      readonly ok: false;
      readonly code: RaftErrorCode;
      readonly message: string;
      readonly leader: string | null;
    };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/** The body as a WireBody, or a reason it is not one. */
export function parseWireBody(body: unknown): WireBody | string {
  if (!isObject(body) || typeof body.t !== 'string') return 'not a raft frame';
  if (!isName(body.g)) return 'bad group id';
  switch (body.t) {
    case 'msg':
      if (!isObject(body.m) || typeof body.m.type !== 'string' || body.m.type === 'snapshot') return 'bad message';
      return body as unknown as WireBody;
    case 'snap':
      if (!isName(body.from) || !isName(body.to) || !isId(body.term) || !isObject(body.meta)) return 'bad snapshot';
      if (!isId(body.x) || !isId(body.seq) || typeof body.last !== 'boolean') return 'bad snapshot chunk header';
      if (!(body.chunk instanceof Uint8Array)) return 'bad snapshot chunk';
      return body as unknown as WireBody;
    case 'fq':
      return body as unknown as WireBody;
    case 'fa':
      if (body.voters === null) return body as unknown as WireBody;
      if (!Array.isArray(body.voters) || body.voters.length === 0 || body.voters.length > MAX_FOUNDERS)
        return 'bad founders';
      return body.voters.every(isName) ? (body as unknown as WireBody) : 'bad founder name';
    case 'hi':
      return typeof body.ask === 'boolean' ? (body as unknown as WireBody) : 'bad hello';
    case 'fwd':
      if (!isId(body.id) || !Array.isArray(body.cmds) || body.cmds.length === 0) return 'bad forward';
      if (!body.cmds.every((c) => c instanceof Uint8Array)) return 'bad forwarded command';
      return body as unknown as WireBody;
    case 'fwdr':
      if (!isId(body.id) || typeof body.ok !== 'boolean') return 'bad forward result';
      if (body.ok) return Array.isArray(body.results) ? (body as unknown as WireBody) : 'bad forward results';
      if (typeof body.code !== 'string' || !RAFT_ERROR_CODES.has(body.code)) return 'bad forward error code';
      if (typeof body.message !== 'string' || (body.leader !== null && !isName(body.leader)))
        return 'bad forward error';
      return body as unknown as WireBody;
    default:
      return `unknown raft frame type ${JSON.stringify(body.t).slice(0, 40)}`;
  }
}
