// A network of Raft hosts inside one test, on the virtual clock: frames take 1 ms, pass through
// msgpack as on the wire, and can be cut per direction. Node up/down events follow the cuts.
import { pack, unpack } from 'msgpackr';
import type { NodeEvent } from '../../../internode/index.js';
import type { RaftSendResult, RaftTransport, Tenant } from '../../../raft/host/index.js';
import type { VirtualClock } from '../../../runtime/index.js';

interface Peer {
  handler: ((from: string, body: unknown) => void) | null;
  readonly listeners: Set<(e: NodeEvent) => void>;
  up: boolean;
}

export class LoopNet {
  readonly peers = new Map<string, Peer>();
  readonly cuts = new Set<string>();
  framesSent = 0;
  constructor(private readonly clock: VirtualClock) {}

  transport(name: string): RaftTransport {
    const peer: Peer = { handler: null, listeners: new Set(), up: true };
    this.peers.set(name, peer);
    return {
      handle: (_cls, handler) => void (peer.handler = handler),
      subscribe: (listener) => {
        peer.listeners.add(listener);
        return () => void peer.listeners.delete(listener);
      },
      upNodes: () => [...this.peers.keys()].filter((n) => n !== name && this.linked(name, n)),
      sendFrame: (to, _cls, body): RaftSendResult => {
        if (!this.linked(name, to)) return 'no-route';
        const bytes = pack(body);
        this.framesSent++;
        this.clock.setTimer(1, () => {
          if (this.linked(name, to)) this.peers.get(to)?.handler?.(name, unpack(bytes));
        });
        return 'queued';
      },
    };
  }

  /** Node `name` is gone (killed) or back; peers see down/up at once (sockets close). */
  setUp(name: string, up: boolean): void {
    this.peers.get(name)!.up = up;
    for (const [other, peer] of this.peers) {
      if (other === name || !peer.up) continue;
      const e: NodeEvent = up
        ? { type: 'up', node: name, incarnation: 1, address: '' }
        : { type: 'down', node: name, incarnation: 1, reason: 'disconnected' };
      for (const l of peer.listeners) l(e);
    }
  }

  /** Cut both directions between a and b (no events: a silent partition). */
  cut(a: string, b: string): void {
    this.cuts.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  remove(name: string): void {
    this.setUp(name, false);
    this.peers.delete(name);
  }

  private linked(a: string, b: string): boolean {
    const pa = this.peers.get(a);
    const pb = this.peers.get(b);
    return pa !== undefined && pb !== undefined && pa.up && pb.up && !this.cuts.has(`${a}>${b}`);
  }
}

/** A tenant that records every command (as text) and answers with its index and count. */
export class RecordingTenant implements Tenant<{ index: number; count: number; text: string }> {
  log: string[] = [];
  restores = 0;
  apply(command: Uint8Array, index: number) {
    const text = new TextDecoder().decode(command);
    this.log.push(text);
    return { index, count: this.log.length, text };
  }
  snapshot(): Uint8Array {
    return pack(this.log);
  }
  restore(image: Uint8Array): void {
    this.restores++;
    this.log = unpack(image) as string[];
  }
}

export const cmd = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Advances `clock` in `step` ms until `probe` returns a value (bounded in virtual time). */
export async function advanceUntil<T>(
  clock: VirtualClock,
  probe: () => T | undefined | false,
  maxMs: number,
  step = 10,
): Promise<T> {
  for (let t = 0; t <= maxMs; t += step) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await clock.advance(step);
  }
  throw new Error(`condition not met within ${maxMs} virtual ms`);
}
