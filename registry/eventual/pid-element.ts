// How the CRDT stores Pids: compared by value, hashed stably, carried on the wire as the codec's
// Pid extension (runtime/codec.ts decodes and validates it into a Pid instance).
import type { ElementOps } from '../../crdt/index.js';
import { CrdtMalformedError, fnvNumber, fnvString } from '../../crdt/index.js';
import { Pid } from '../../runtime/pid.js';

export const pidElement: ElementOps<Pid> = {
  equals: (a, b) => a.equals(b),
  hash: (pid, seed) => fnvNumber(pid.incarnation, fnvNumber(pid.id, fnvString(pid.node, seed))),
  // ext header (<= 6) + array header (1) + node string (<= 3 + 3 bytes per char) + two uints (<= 9 each)
  wireSize: (pid) => 28 + pid.node.length * 3,
  fromWire: (value) => {
    if (!(value instanceof Pid)) throw new CrdtMalformedError('claim value is not a pid');
    return value;
  },
  toWire: (pid) => pid,
};
