// Upper bounds of the msgpack size of pg messages, cheap to compute without encoding. They let
// the core split syncs and deltas under `maxMessageBytes`, so no message can outgrow a frame.
import type { Group } from './types.js';

/** A Pid: ext header (≤3) + array header (1) + str header (≤2) + node + two uint64 (≤9 each). */
export const PID_OVERHEAD_BYTES = 24;
/** Envelope of a message: keys, type, scope, incarnations, versions, part, array headers. */
export const MESSAGE_OVERHEAD_BYTES = 256;
/** Per group block (in a sync) or op (in a delta): tuple header, op kind, array headers. */
export const BLOCK_OVERHEAD_BYTES = 16;

export function pidBytes(node: string): number {
  return node.length + PID_OVERHEAD_BYTES;
}

/** A group name as msgpack str: ≤ 3 UTF-8 bytes per UTF-16 unit, plus its header. */
export function groupBytes(group: Group): number {
  return group.length * 3 + 5;
}

/** Bytes of one block (a sync group block or a delta op) of `count` pids of `node`. */
export function blockBytes(group: Group, count: number, node: string): number {
  return BLOCK_OVERHEAD_BYTES + groupBytes(group) + count * pidBytes(node);
}
