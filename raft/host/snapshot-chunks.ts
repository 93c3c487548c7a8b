// Snapshots cross the network in bounded chunks: the sender cuts the engine's snapshot message
// into frames, the receiver puts one transfer per (peer, group) back together and hands the
// whole message to the engine. A gap or a new transfer starts over; the engine re-sends a
// snapshot that got no answer.
import type { SnapshotMessage } from '../types.js';
import { MAX_INCOMING_SNAPSHOTS, MAX_SNAPSHOT_BYTES, SNAPSHOT_CHUNK_BYTES } from './limits.js';
import type { WireBody } from './wire.js';

type ChunkBody = Extract<WireBody, { t: 'snap' }>;

export function snapshotChunks(group: string, m: SnapshotMessage, transfer: number): ChunkBody[] {
  const data = m.snapshot.data;
  const out: ChunkBody[] = [];
  const count = Math.max(1, Math.ceil(data.byteLength / SNAPSHOT_CHUNK_BYTES));
  for (let seq = 0; seq < count; seq++) {
    out.push({
      t: 'snap',
      g: group,
      from: m.from,
      to: m.to,
      term: m.term,
      meta: m.snapshot.meta,
      x: transfer,
      seq,
      last: seq === count - 1,
      chunk: data.subarray(seq * SNAPSHOT_CHUNK_BYTES, (seq + 1) * SNAPSHOT_CHUNK_BYTES),
    });
  }
  return out;
}

interface Transfer {
  readonly x: number;
  next: number;
  bytes: number;
  readonly parts: Uint8Array[];
}

export class SnapshotAssembler {
  private readonly transfers = new Map<string, Transfer>();
  dropped = 0;

  /** Adds a chunk; returns the whole snapshot message once its last chunk arrived in order. */
  add(from: string, body: ChunkBody): SnapshotMessage | null {
    const key = `${from}\u0000${body.g}`;
    let t = this.transfers.get(key);
    if (t === undefined || t.x !== body.x) {
      if (body.seq !== 0) return this.drop(key);
      if (t === undefined && this.transfers.size >= MAX_INCOMING_SNAPSHOTS) return this.drop(null);
      t = { x: body.x, next: 0, bytes: 0, parts: [] };
      this.transfers.set(key, t);
    }
    if (body.seq !== t.next) return this.drop(key);
    t.bytes += body.chunk.byteLength;
    if (t.bytes > MAX_SNAPSHOT_BYTES) return this.drop(key);
    t.parts.push(body.chunk);
    t.next++;
    if (!body.last) return null;
    this.transfers.delete(key);
    const data = new Uint8Array(t.bytes);
    let at = 0;
    for (const p of t.parts) {
      data.set(p, at);
      at += p.byteLength;
    }
    return { type: 'snapshot', from: body.from, to: body.to, term: body.term, snapshot: { meta: body.meta, data } };
  }

  /** A peer went away: forget its transfers. */
  forget(from: string): void {
    for (const key of this.transfers.keys()) if (key.startsWith(`${from}\u0000`)) this.transfers.delete(key);
  }

  private drop(key: string | null): null {
    if (key !== null) this.transfers.delete(key);
    this.dropped++;
    return null;
  }
}
