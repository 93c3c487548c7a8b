// Frame classes: each has its own bounded queue and an overflow policy chosen by what the
// protocol above it tolerates.

export const FRAME_CLASSES = ['control', 'raft', 'pg', 'registry', 'user'] as const;
export type FrameClassName = (typeof FRAME_CLASSES)[number];

/** The class byte on the wire. */
export const CLASS_ID: Readonly<Record<FrameClassName, number>> = { control: 0, raft: 1, registry: 2, pg: 3, user: 4 };
export const CLASS_BY_ID: ReadonlyMap<number, FrameClassName> = new Map(FRAME_CLASSES.map((c) => [CLASS_ID[c], c]));

/**
 * - drop-oldest: raft (Raft retransmits; the newest state matters most)
 * - drop-newest: registry (CRDT gossip; anti-entropy repairs what is dropped)
 * - reject: control, pg, user — the caller learns at once (pg marks the peer for a resync,
 *   user sends raise ERR_BACKPRESSURE or wait for room); nothing disappears silently.
 */
export type ClassOverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

export const CLASS_POLICY: Readonly<Record<FrameClassName, ClassOverflowPolicy>> = {
  control: 'reject',
  raft: 'drop-oldest',
  registry: 'drop-newest',
  pg: 'reject',
  user: 'reject',
};
