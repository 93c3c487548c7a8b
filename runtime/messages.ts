// System messages a process may find in its mailbox, and the envelopes of call/cast.
import type { Pid } from './pid.js';
import type { ExitReason } from './reason.js';

/** A process registered under a local `name` on `node` (Erlang's `{Name, Node}`). */
export interface RemoteName {
  readonly node: string;
  readonly name: string;
}

/** A monitor reference: unique per node incarnation, plain string so it crosses the wire as is. */
export type Ref = string;

/** Delivered once per monitor when the monitored process exits (or was never there: 'noproc'). */
export interface DownMessage {
  readonly type: 'DOWN';
  readonly ref: Ref;
  readonly pid: Pid;
  readonly reason: ExitReason;
}

/** Delivered to a process that traps exits instead of killing it. `from` is undefined when the node sent it. */
export interface ExitMessage {
  readonly type: 'EXIT';
  readonly from: Pid | undefined;
  readonly reason: ExitReason;
}

export type SystemMessage = DownMessage | ExitMessage;

/** Who to reply to: the caller and the reference of this call. */
export interface From {
  readonly pid: Pid;
  readonly ref: Ref;
}

export interface CallEnvelope<Req = unknown> {
  readonly type: '$call';
  readonly from: From;
  readonly request: Req;
}

export interface ReplyEnvelope<Res = unknown> {
  readonly type: '$reply';
  readonly ref: Ref;
  readonly value: Res;
}

export interface CastEnvelope<Msg = unknown> {
  readonly type: '$cast';
  readonly message: Msg;
}

function tagged(value: unknown, tag: string): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === tag;
}

export const isDown = (m: unknown): m is DownMessage => tagged(m, 'DOWN');
export const isExit = (m: unknown): m is ExitMessage => tagged(m, 'EXIT');
export const isCall = (m: unknown): m is CallEnvelope => tagged(m, '$call');
export const isReply = (m: unknown): m is ReplyEnvelope => tagged(m, '$reply');
export const isCast = (m: unknown): m is CastEnvelope => tagged(m, '$cast');
