// Frames: version u8 | class u8 | body length u32 BE | body (msgpack). Many frames travel in one
// WebSocket message. Every byte from the wire is untrusted: decoding checks version, class and
// length against the limits and the bytes actually present.
import { CLASS_BY_ID, CLASS_ID, type FrameClassName } from './classes.js';
import { InternodeError } from './errors.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BODY_BYTES, PROTOCOL_VERSION } from './limits.js';

export interface Frame {
  readonly cls: FrameClassName;
  readonly body: Buffer;
}

export function encodeFrame(cls: FrameClassName, body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BODY_BYTES) {
    throw new InternodeError('ERR_LIMIT', `frame body of ${body.length} bytes exceeds ${MAX_FRAME_BODY_BYTES}`);
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out[0] = PROTOCOL_VERSION;
  out[1] = CLASS_ID[cls];
  out.writeUInt32BE(body.length, 2);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** Splits one WebSocket message into frames; throws ERR_FRAME (with a reason) on anything malformed. */
export function decodeFrames(message: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < message.length) {
    if (message.length - at < FRAME_HEADER_BYTES) throw new InternodeError('ERR_FRAME', 'truncated frame header');
    const version = message[at]!;
    if (version !== PROTOCOL_VERSION) throw new InternodeError('ERR_FRAME', `unsupported frame version ${version}`);
    const cls = CLASS_BY_ID.get(message[at + 1]!);
    if (cls === undefined) throw new InternodeError('ERR_FRAME', `unknown frame class ${message[at + 1]!}`);
    const length = message.readUInt32BE(at + 2);
    if (length > MAX_FRAME_BODY_BYTES)
      throw new InternodeError('ERR_FRAME', `declared frame length ${length} exceeds ${MAX_FRAME_BODY_BYTES}`);
    const start = at + FRAME_HEADER_BYTES;
    if (start + length > message.length) throw new InternodeError('ERR_FRAME', 'truncated frame body');
    frames.push({ cls, body: message.subarray(start, start + length) });
    at = start + length;
  }
  if (frames.length === 0) throw new InternodeError('ERR_FRAME', 'empty message');
  return frames;
}
