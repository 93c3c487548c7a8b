// How the CRDT stores Pids: compared by value, hashed stably, carried on the wire as the codec's
// Pid extension (runtime/codec.ts decodes and validates it into a Pid instance).
import type { ElementOps } from '../../crdt/index.js';
import { CrdtMalformedError, actorOf, flatString, fnvNumber, fnvString } from '../../crdt/index.js';
import { Pid } from '../../runtime/base.js';

/** Most distinct node names kept canonical (past it, pids keep their own string). */
const MAX_INTERNED_NODES = 10_000;
const nodeNames = new Map<string, string>();

/**
 * A decoded pid's node name is a slice of its message's text (msgpackr); claims live long, so
 * each stored pid gets the one flat, shared copy of its node name.
 */
function canonicalPid(pid: Pid): Pid {
  let node = nodeNames.get(pid.node);
  if (node === undefined) {
    if (nodeNames.size >= MAX_INTERNED_NODES) return pid;
    node = flatString(pid.node);
    nodeNames.set(node, node);
  }
  return node === pid.node ? pid : new Pid(node, pid.id, pid.incarnation);
}

/**
 * A stored claim: the pid itself, carrying its dot's counter (the actor is the pid's own node
 * incarnation). One object per claim instead of a pid plus an entry saves ~32 bytes per name.
 * It is a Pid in every way (equals, toString, the codec's extension).
 */
export class ClaimPid extends Pid {
  readonly counter: number;
  readonly actor: string;
  constructor(pid: Pid, counter: number, actor: string) {
    super(pid.node, pid.id, pid.incarnation);
    this.counter = counter;
    this.actor = actor;
  }

  get value(): Pid {
    return this;
  }
}

export const pidElement: ElementOps<Pid> = {
  equals: (a, b) => a.equals(b),
  hash: (pid, seed) => fnvNumber(pid.incarnation, fnvNumber(pid.id, fnvString(pid.node, seed))),
  // ext header (<= 6) + array header (1) + node string (<= 3 + 3 bytes per char) + two uints (<= 9 each)
  wireSize: (pid) => 28 + pid.node.length * 3,
  fromWire: (value) => {
    if (!(value instanceof Pid)) throw new CrdtMalformedError('claim value is not a pid');
    return canonicalPid(value);
  },
  toWire: (pid) => pid,
  // A claim's dot is always minted by the claim's own node incarnation (checked on arrival).
  actorOf: (pid) => actorOf(pid.node, pid.incarnation),
  compactEntry: (pid, counter) => new ClaimPid(pid, counter, actorOf(pid.node, pid.incarnation)),
};
