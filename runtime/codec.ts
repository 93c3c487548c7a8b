// msgpack with troupe's extension types. The Pid extension is compact: a msgpack array of
// [node, id, incarnation] inside extension type PID_EXTENSION_TYPE. Decoding validates every
// field; a malformed pid throws ERR_BAD_PID (the wire is untrusted).
import { Packr, addExtension } from 'msgpackr';
import { TroupeError } from './errors.js';
import { Pid } from './pid.js';

/** msgpack extension type for a Pid (application range is 0..127). */
export const PID_EXTENSION_TYPE = 0x50;

addExtension({
  Class: Pid,
  type: PID_EXTENSION_TYPE,
  write: (pid: Pid) => pid.toWire(),
  read: (fields: unknown) => Pid.fromWire(fields),
});

/**
 * A Packr configured for troupe: plain maps and arrays (no record structures shared across
 * messages, so every message decodes on its own), binary stays binary (no string/binary ambiguity).
 */
export function createPackr(): Packr {
  return new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });
}

const shared = createPackr();

export function encode(value: unknown): Buffer {
  return shared.pack(value);
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
