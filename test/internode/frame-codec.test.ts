// The frame codec treats every byte as untrusted: what it encodes it decodes back exactly, and
// anything malformed is refused with ERR_MALFORMED and a reason — never any other exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLASS_ID,
  FRAME_CLASSES,
  InternodeError,
  decodeFrames,
  encodeFrame,
  limits,
  type FrameClassName,
} from '../../internode/index.js';

const { FRAME_HEADER_BYTES, MAX_FRAME_BODY_BYTES, PROTOCOL_VERSION } = limits;

const frameArb = fc.record({
  cls: fc.constantFrom(...FRAME_CLASSES),
  body: fc.uint8Array({ maxLength: 300 }),
});

function header(version: number, cls: number, length: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h[0] = version;
  h[1] = cls;
  h.writeUInt32BE(length, 2);
  return h;
}

/** Runs decodeFrames and returns the ERR_MALFORMED reason; fails the test on success or any other error. */
function refusal(message: Buffer): string {
  try {
    decodeFrames(message);
  } catch (err) {
    expect(err).toBeInstanceOf(InternodeError);
    expect((err as InternodeError).code).toBe('ERR_MALFORMED');
    return (err as InternodeError).message;
  }
  throw new Error('decodeFrames accepted a malformed message');
}

describe('frame codec', () => {
  it('decodes any list of encoded frames back to the same classes and bodies, in order', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), (frames) => {
        const message = Buffer.concat(frames.map((f) => encodeFrame(f.cls, f.body)));
        const decoded = decodeFrames(message);
        expect(decoded.map((f) => f.cls)).toEqual(frames.map((f) => f.cls));
        expect(decoded.map((f) => Buffer.from(f.body))).toEqual(frames.map((f) => Buffer.from(f.body)));
      }),
    );
  });

  it('writes version, class byte and big-endian length in the header', () => {
    const f = encodeFrame('pg', Buffer.from([9, 8, 7]));
    expect([...f]).toEqual([PROTOCOL_VERSION, CLASS_ID.pg, 0, 0, 0, 3, 9, 8, 7]);
  });

  it('refuses to encode a body larger than the limit (ERR_LIMIT)', () => {
    expect(() => encodeFrame('user', Buffer.alloc(MAX_FRAME_BODY_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_LIMIT' }),
    );
    expect(decodeFrames(encodeFrame('user', Buffer.alloc(MAX_FRAME_BODY_BYTES)))[0]!.body.length).toBe(
      MAX_FRAME_BODY_BYTES,
    );
  });

  it('refuses an empty message', () => {
    expect(refusal(Buffer.alloc(0))).toMatch(/empty/);
  });

  it('refuses a truncated header, alone or after a good frame', () => {
    const good = encodeFrame('user', Buffer.from([1]));
    for (let n = 1; n < FRAME_HEADER_BYTES; n++) {
      expect(refusal(good.subarray(0, n))).toMatch(/truncated frame header/);
      expect(refusal(Buffer.concat([good, good.subarray(0, n)]))).toMatch(/truncated frame header/);
    }
  });

  it('refuses a truncated body, alone or after a good frame', () => {
    const good = encodeFrame('raft', Buffer.from('hello world'));
    for (let n = FRAME_HEADER_BYTES; n < good.length; n++) {
      expect(refusal(good.subarray(0, n))).toMatch(/truncated frame body/);
      expect(refusal(Buffer.concat([good, good.subarray(0, n)]))).toMatch(/truncated frame body/);
    }
    // A declared length one past the bytes present, with the bytes of a later frame behind it.
    expect(refusal(Buffer.concat([header(PROTOCOL_VERSION, CLASS_ID.user, 100), Buffer.alloc(99)]))).toMatch(
      /truncated frame body/,
    );
  });

  it('refuses a declared length over the limit before looking for the bytes', () => {
    for (const length of [MAX_FRAME_BODY_BYTES + 1, 0xffffffff]) {
      expect(refusal(header(PROTOCOL_VERSION, CLASS_ID.user, length))).toMatch(/exceeds/);
    }
  });

  it('refuses a wrong version byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((v) => v !== PROTOCOL_VERSION),
        (v) => {
          expect(refusal(Buffer.concat([header(v, CLASS_ID.user, 1), Buffer.from([0])]))).toMatch(
            /unsupported frame version/,
          );
        },
      ),
    );
  });

  it('refuses an unknown class byte', () => {
    const known = new Set<number>(FRAME_CLASSES.map((c: FrameClassName) => CLASS_ID[c]));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((c) => !known.has(c)),
        (c) => {
          expect(refusal(Buffer.concat([header(PROTOCOL_VERSION, c, 1), Buffer.from([0])]))).toMatch(
            /unknown frame class/,
          );
        },
      ),
    );
  });

  it('on random bytes either decodes frames that fit the message, or throws only ERR_MALFORMED', () => {
    const check = (bytes: Uint8Array): void => {
      const message = Buffer.from(bytes);
      let frames;
      try {
        frames = decodeFrames(message);
      } catch (err) {
        expect(err).toBeInstanceOf(InternodeError);
        expect((err as InternodeError).code).toBe('ERR_MALFORMED');
        return;
      }
      // Accepted: every byte is accounted for by headers and bodies.
      expect(frames.reduce((n, f) => n + FRAME_HEADER_BYTES + f.body.length, 0)).toBe(message.length);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 500 });
    // Random bytes behind a plausible header, so the deeper checks are reached too.
    fc.assert(
      fc.property(
        fc.constantFrom(...FRAME_CLASSES),
        fc.integer({ min: 0, max: 64 }),
        fc.uint8Array({ maxLength: 80 }),
        (cls, length, rest) => check(Buffer.concat([header(PROTOCOL_VERSION, CLASS_ID[cls], length), rest])),
      ),
      { numRuns: 500 },
    );
  });
});
