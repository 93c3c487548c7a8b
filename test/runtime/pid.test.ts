import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, decode, encode, isTroupeError } from '../../runtime/index.js';
import { Packr } from 'msgpackr';
import { PID_EXTENSION_TYPE } from '../../runtime/codec.js';

const nodeName = fc.stringMatching(/^[A-Za-z0-9_@.:-]{1,40}$/);
const arbPid = fc.tuple(nodeName, fc.nat(), fc.nat()).map(([n, id, inc]) => new Pid(n, id, inc));

describe('Pid', () => {
  it('has a stable string form that parses back, even with dots in the node name', () => {
    const p = new Pid('app@host.example', 42, 7);
    expect(p.toString()).toBe('<app@host.example.42.7>');
    expect(Pid.parse(p.toString()).equals(p)).toBe(true);
  });

  it('parses every pid it prints (property)', () => {
    fc.assert(fc.property(arbPid, (p) => Pid.parse(p.toString()).equals(p)));
  });

  it('rejects malformed text with ERR_BAD_PID, never a default pid', () => {
    for (const bad of [
      '',
      '<>',
      '<a.1>',
      'a.1.2',
      '<a.x.1>',
      '<a.1.-2>',
      '<.1.2>',
      '<a b.1.2>',
      '<a.1.2',
      `<${'a'.repeat(300)}.1.2>`,
    ]) {
      let caught: unknown;
      try {
        Pid.parse(bad);
      } catch (err) {
        caught = err;
      }
      expect(isTroupeError(caught, 'ERR_BAD_PID') || isTroupeError(caught, 'ERR_BAD_NAME'), bad).toBe(true);
    }
  });

  it('compares by value', () => {
    expect(new Pid('a', 1, 2).equals(new Pid('a', 1, 2))).toBe(true);
    expect(new Pid('a', 1, 2).equals(new Pid('a', 1, 3))).toBe(false);
    expect(new Pid('a', 1, 2).equals(new Pid('b', 1, 2))).toBe(false);
  });

  it('round-trips through msgpack inside any structure (property)', () => {
    fc.assert(
      fc.property(arbPid, fc.jsonValue(), (p, payload) => {
        const back = decode(encode({ to: p, payload, list: [p, p] })) as { to: Pid; list: Pid[]; payload: unknown };
        return back.to instanceof Pid && back.to.equals(p) && back.list.every((q) => q.equals(p));
      }),
    );
  });

  it('encodes compactly: a short node name costs a few bytes beyond the name', () => {
    const bytes = encode(new Pid('a', 5, 9));
    expect(bytes.length).toBeLessThanOrEqual(10);
  });

  it('refuses a malformed pid extension on decode with a typed error', () => {
    // Hand-build extension payloads with wrong shapes.
    const plain = new Packr({ useRecords: false });
    for (const fields of [['a', 1], ['a', -1, 2], [1, 2, 3], 'x', ['a b', 1, 2]]) {
      // msgpackr's layout for an extension written as a value: fixext1 <type> 0x00, then the value.
      const ext = Buffer.concat([Buffer.from([0xd4, PID_EXTENSION_TYPE, 0x00]), plain.pack(fields)]);
      let caught: unknown;
      try {
        decode(ext);
      } catch (err) {
        caught = err;
      }
      expect(
        isTroupeError(caught, 'ERR_BAD_PID') || isTroupeError(caught, 'ERR_BAD_NAME'),
        JSON.stringify(fields),
      ).toBe(true);
    }
  });

  it('turns any malformed bytes into ERR_DECODE or ERR_BAD_PID, never another error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decode(bytes);
          return true;
        } catch (err) {
          return (
            isTroupeError(err, 'ERR_DECODE') || isTroupeError(err, 'ERR_BAD_PID') || isTroupeError(err, 'ERR_BAD_NAME')
          );
        }
      }),
      { numRuns: 2000 },
    );
  });
});
