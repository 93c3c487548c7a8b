// msgpack with troupe's extension types. The Pid extension is compact: a msgpack array of
// [node, id, incarnation] inside extension type PID_EXTENSION_TYPE. Decoding validates every
// field; a malformed pid throws ERR_BAD_PID (the wire is untrusted).
//
// `encode` takes a message (runtime/message.ts says what one is) and refuses anything else with
// ERR_UNSERIALIZABLE: what msgpack has no lossless form of (a BigInt, -0, a Map, a Set, an Error)
// travels in an extension of its own, so every message decodes to an equal value.
import { Packr, addExtension } from 'msgpackr';
import { TroupeError } from './errors.js';
import { EXACT_SIZE_CHECK_BYTES, MAX_MESSAGE_BYTES, MESSAGE_ENVELOPE_BYTES } from './limits.js';
import {
  WireBigInt,
  WireError,
  WireMap,
  WireNegativeZero,
  WireSet,
  checkMessage,
  messageTooLarge,
  toWire,
} from './message.js';
import { Pid } from './pid.js';

/** msgpack extension type for a Pid (application range is 0..127). */
export const PID_EXTENSION_TYPE = 0x50;
/** Extension types of the values msgpack cannot carry losslessly (see runtime/message.ts). */
export const BIGINT_EXTENSION_TYPE = 0x51;
export const MAP_EXTENSION_TYPE = 0x52;
export const SET_EXTENSION_TYPE = 0x53;
export const ERROR_EXTENSION_TYPE = 0x54;
export const NEGATIVE_ZERO_EXTENSION_TYPE = 0x55;

const malformed = (what: string): TroupeError => new TroupeError('ERR_DECODE', `malformed msgpack: ${what}`);
const HEX = /^-?[0-9a-f]+$/;

addExtension({
  Class: Pid,
  type: PID_EXTENSION_TYPE,
  write: (pid: Pid) => pid.toWire(),
  read: (fields: unknown) => Pid.fromWire(fields),
});

addExtension({
  Class: WireBigInt,
  type: BIGINT_EXTENSION_TYPE,
  write: (b: WireBigInt) => b.value.toString(16),
  read: (hex: unknown) => {
    if (typeof hex !== 'string' || !HEX.test(hex)) throw malformed('a bigint that is not a hex string');
    return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
  },
});

addExtension({
  Class: WireNegativeZero,
  type: NEGATIVE_ZERO_EXTENSION_TYPE,
  write: () => 0,
  read: () => -0,
});

addExtension({
  Class: WireMap,
  type: MAP_EXTENSION_TYPE,
  write: (m: WireMap) => m.flat,
  read: (flat: unknown) => {
    if (!Array.isArray(flat) || flat.length % 2 !== 0) throw malformed('a map that is not [key, value, …]');
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
    return m;
  },
});

addExtension({
  Class: WireSet,
  type: SET_EXTENSION_TYPE,
  write: (s: WireSet) => s.values,
  read: (values: unknown) => {
    if (!Array.isArray(values)) throw malformed('a set that is not an array');
    return new Set(values);
  },
});

addExtension({
  Class: WireError,
  type: ERROR_EXTENSION_TYPE,
  write: (e: WireError) => [
    e.name,
    e.message,
    e.stack ?? null,
    e.cause === undefined ? null : [e.cause.value],
    e.fields,
  ],
  read: (wire: unknown) => readError(wire),
});

/**
 * An error off the wire: always a plain Error (never a class named by the wire) with the name,
 * message, stack, cause and own enumerable fields (`code` among them) that were sent. Fields are
 * defined, not assigned, so no key (`__proto__` included) reaches a prototype.
 */
function readError(wire: unknown): Error {
  if (!Array.isArray(wire) || wire.length !== 5) throw malformed('an error that is not [name, message, …]');
  const [name, message, stack, cause, fields] = wire as unknown[];
  if (typeof name !== 'string' || typeof message !== 'string') throw malformed('an error without name and message');
  if (stack !== null && typeof stack !== 'string') throw malformed('an error stack that is not a string');
  if (cause !== null && !(Array.isArray(cause) && cause.length === 1))
    throw malformed('an error cause that is not [cause]');
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw malformed('error fields that are not a map');
  const e = cause === null ? new Error(message) : new Error(message, { cause: (cause as unknown[])[0] });
  const hidden = (value: unknown): PropertyDescriptor => ({
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (name !== 'Error' && !Object.hasOwn(fields, 'name')) Object.defineProperty(e, 'name', hidden(name));
  Object.defineProperty(e, 'stack', hidden(stack ?? undefined));
  for (const [key, value] of Object.entries(fields))
    Object.defineProperty(e, key, { value, writable: true, configurable: true, enumerable: true });
  return e;
}

/**
 * A Packr configured for troupe: plain maps and arrays (no record structures shared across
 * messages, so every message decodes on its own), binary stays binary (no string/binary ambiguity),
 * no structured-clone references (a peer cannot send a cycle).
 */
export function createPackr(): Packr {
  return new Packr({
    useRecords: false,
    moreTypes: false,
    mapsAsObjects: true,
    int64AsType: 'number',
    structuredClone: false,
  });
}

const shared = createPackr();

/**
 * Encodes a value of the message contract (runtime/message.ts), any size: ERR_UNSERIALIZABLE (path
 * rooted at `value`) for anything else. (Sends bound the size: validateMessage.)
 */
export function encode(value: unknown): Buffer {
  return shared.pack(toWire(value, 'value'));
}

/**
 * The check every send makes before anything is sent, for local and remote targets alike: an
 * UnserializableError (ERR_UNSERIALIZABLE, `path` rooted at `root`) when `value` is not a message,
 * ERR_LIMIT when its encoding leaves no room in MAX_MESSAGE_BYTES for its envelope. One walk; a
 * large message (past EXACT_SIZE_CHECK_BYTES) is encoded once more to know its exact size.
 * `remote: false` (a send to a local target) skips the checks of keys (symbol-keyed properties,
 * lone surrogates in keys), the costly ones: a local target gets the value itself, keys and all.
 */
export function validateMessage(value: unknown, root = 'msg', remote = true): void {
  if (checkMessage(value, root, remote) <= EXACT_SIZE_CHECK_BYTES) return;
  const bytes = shared.pack(toWire(value, root)).length;
  if (bytes > MAX_MESSAGE_BYTES - MESSAGE_ENVELOPE_BYTES) throw messageTooLarge(bytes, true);
}

/**
 * Decodes one msgpack value. Malformed bytes are an ERR_DECODE (or ERR_BAD_PID) error, never another
 * kind. Bytes left over after the value are refused at O(1) cost: msgpackr's own error for them
 * renders the whole value as JSON (half a second for a 4 MiB value from an untrusted peer).
 */
export function decode(bytes: Uint8Array): unknown {
  let value: unknown;
  let end = 0;
  try {
    shared.unpackMultiple(bytes, (v: unknown, _start?: number, next?: number) => {
      value = v;
      end = next ?? bytes.length;
      return false; // one value; the rest, if any, is checked below
    });
  } catch (err) {
    if (err instanceof TroupeError) throw err;
    throw new TroupeError('ERR_DECODE', `malformed msgpack: ${(err as Error).message.slice(0, 200)}`, { cause: err });
  }
  if (end !== bytes.length)
    throw new TroupeError('ERR_DECODE', `malformed msgpack: ${bytes.length - end} bytes after the value`);
  return value;
}
