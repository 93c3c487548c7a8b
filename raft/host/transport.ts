// What the Raft host needs from the network: the internode layer satisfies it (and so does
// the real Internode over the in-memory transport, for simulations).
import type { NodeEvent } from '../../internode/index.js';

export type RaftSendResult = 'queued' | 'dropped-oldest' | 'dropped-newest' | 'rejected' | 'no-route';

export interface RaftTransport {
  handle(cls: 'raft', handler: (fromNode: string, body: unknown) => void): void;
  sendFrame(node: string, cls: 'raft', body: unknown): RaftSendResult;
  subscribe(listener: (event: NodeEvent) => void): () => void;
  upNodes(): string[];
}
