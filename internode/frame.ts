// Frames: version u8 | class u8 | body length u32 BE | body (msgpack). Many frames travel in one
// WebSocket message. Every byte from the wire is untrusted: decoding checks version, class and
// length against the limits and the bytes actually present.
import { CLASS_BY_ID, CLASS_ID, type FrameClassName } from './classes.js';
import { InternodeError } from './errors.js';
import {
  COPY_OUT_OF_BUFFERS_OVER_BYTES,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BODY_BYTES,
  PROTOCOL_VERSION,
} from './limits.js';

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

/** Splits one WebSocket message into frames; throws ERR_MALFORMED (with a reason) on anything malformed. */
export function decodeFrames(message: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < message.length) {
    if (message.length - at < FRAME_HEADER_BYTES) throw new InternodeError('ERR_MALFORMED', 'truncated frame header');
    const version = message[at]!;
    if (version !== PROTOCOL_VERSION) throw new InternodeError('ERR_MALFORMED', `unsupported frame version ${version}`);
    const cls = CLASS_BY_ID.get(message[at + 1]!);
    if (cls === undefined) throw new InternodeError('ERR_MALFORMED', `unknown frame class ${message[at + 1]!}`);
    const length = message.readUInt32BE(at + 2);
    if (length > MAX_FRAME_BODY_BYTES)
      throw new InternodeError('ERR_MALFORMED', `declared frame length ${length} exceeds ${MAX_FRAME_BODY_BYTES}`);
    const start = at + FRAME_HEADER_BYTES;
    if (start + length > message.length) throw new InternodeError('ERR_MALFORMED', 'truncated frame body');
    frames.push({ cls, body: ownBody(message.subarray(start, start + length)) });
    at = start + length;
  }
  if (frames.length === 0) throw new InternodeError('ERR_MALFORMED', 'empty message');
  return frames;
}

/**
 * A small body inside a large receive buffer is copied out: values decoded from it (binaries are
 * views into their source) may live on in a mailbox, and must not keep the whole buffer alive.
 */
function ownBody(body: Buffer): Buffer {
  const backing = body.buffer.byteLength;
  if (backing <= COPY_OUT_OF_BUFFERS_OVER_BYTES || body.length * 4 >= backing) return body;
  return Buffer.from(body); // exact size (or a share of Node's small 8 KiB pool)
}
