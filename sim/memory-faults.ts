// internode's in-memory transport under the one fault model: a FaultModel decides, per message,
// whether it is lost and how late it arrives, and whether two addresses can reach each other at
// all (dials and deliveries alike). A connection is a stream, so it neither duplicates nor
// replays: those faults stay for datagram carriers (SimNetwork). Nodes are named by the host
// part of their address ("n1:7000" is node n1), so cuts and down nodes apply per node.
import type { MemoryFaults } from '../internode/index.js';
import type { FaultModel } from './network.js';

/** The node an address belongs to: its host part. */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return colon < 0 ? address : address.slice(0, colon);
}

export function memoryTransportFaults(model: FaultModel, nodeOf: (address: string) => string = hostOf): MemoryFaults {
  return {
    blocked: (from, to) => {
      const a = nodeOf(from);
      const b = nodeOf(to);
      return model.blocks(a, b) || model.isDown(a) || model.isDown(b);
    },
    decide: (from, to) => {
      const [delay] = model.route(nodeOf(from), nodeOf(to), { stream: true });
      return delay === undefined ? 'drop' : Math.max(1, delay);
    },
  };
}
