// A PID names one process on one incarnation of one node. Its string form is stable and
// parseable: `<node.id.incarnation>`, parsed from the right because node names may hold dots.
import { TroupeError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';

/** Longest node name accepted anywhere (wire, CLI, API). */
export const MAX_NODE_NAME_LENGTH = MAX_NAME_LENGTH;
const NODE_NAME = /^[A-Za-z0-9_@.:-]+$/;

export function validateNodeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NODE_NAME_LENGTH || !NODE_NAME.test(name)) {
    throw new TroupeError(
      'ERR_BAD_NAME',
      `invalid node name ${JSON.stringify(name)}: 1-${MAX_NODE_NAME_LENGTH} chars of [A-Za-z0-9_@.:-]`,
    );
  }
  return name;
}

function isId(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * A process id. `M` is the type of message the process takes (default `unknown`): a pid from
 * `spawn` of a `ProcessFunction<M>` is a `Pid<M>`, and `send` checks messages against it at
 * compile time. It is a type only: nothing of it exists at run time or on the wire.
 */
export class Pid<M = unknown> {
  /**
   * Phantom: ties the pid to its message type (never set). Covariant, so a `Pid<M>` goes
   * wherever a plain `Pid` does (pg, monitors, links); a plain `Pid` takes any message.
   */
  declare readonly __message?: M;
  readonly node: string;
  readonly id: number;
  readonly incarnation: number;
  #text: string | undefined;

  constructor(node: string, id: number, incarnation: number) {
    validateNodeName(node);
    if (!isId(id)) throw new TroupeError('ERR_BAD_PID', `invalid pid id ${String(id)}`);
    if (!isId(incarnation)) throw new TroupeError('ERR_BAD_PID', `invalid pid incarnation ${String(incarnation)}`);
    this.node = node;
    this.id = id;
    this.incarnation = incarnation;
  }

  /** Stable string form, also usable as a map key. */
  toString(): string {
    return (this.#text ??= `<${this.node}.${this.id}.${this.incarnation}>`);
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Pid): boolean {
    return (
      this === other || (this.id === other.id && this.incarnation === other.incarnation && this.node === other.node)
    );
  }

  /** Parse the string form; anything else is an ERR_BAD_PID error, never a default pid. */
  static parse(text: string): Pid {
    if (typeof text !== 'string' || !text.startsWith('<') || !text.endsWith('>')) {
      throw new TroupeError('ERR_BAD_PID', `not a pid: ${JSON.stringify(text)}`);
    }
    const body = text.slice(1, -1);
    const last = body.lastIndexOf('.');
    const mid = last > 0 ? body.lastIndexOf('.', last - 1) : -1;
    if (mid <= 0) throw new TroupeError('ERR_BAD_PID', `not a pid: ${JSON.stringify(text)}`);
    const idText = body.slice(mid + 1, last);
    const incText = body.slice(last + 1);
    if (!/^\d{1,16}$/.test(idText) || !/^\d{1,16}$/.test(incText)) {
      throw new TroupeError('ERR_BAD_PID', `not a pid: ${JSON.stringify(text)}`);
    }
    return new Pid(body.slice(0, mid), Number(idText), Number(incText));
  }

  /** Build a pid from decoded wire fields, validating each (the wire is untrusted). */
  static fromWire(fields: unknown): Pid {
    if (!Array.isArray(fields) || fields.length !== 3)
      throw new TroupeError('ERR_BAD_PID', 'pid on the wire must be [node, id, incarnation]');
    const [node, id, incarnation] = fields as unknown[];
    if (typeof node !== 'string' || !isId(id) || !isId(incarnation))
      throw new TroupeError('ERR_BAD_PID', 'pid on the wire has a bad field');
    return new Pid(node, id, incarnation);
  }

  toWire(): [string, number, number] {
    return [this.node, this.id, this.incarnation];
  }
}

export function isPid(value: unknown): value is Pid {
  return value instanceof Pid;
}
