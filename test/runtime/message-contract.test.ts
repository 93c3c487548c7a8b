// One message contract (runtime/message.ts): every message round-trips exactly through the codec,
// and anything else is ERR_UNSERIALIZABLE with a path, thrown at the sender for local and remote
// targets alike (two nodes with Internode on loopback), before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  Node,
  Pid,
  TroupeError,
  UnserializableError,
  decode,
  encode,
  isTroupeError,
  limits,
  validateMessage,
  type UnserializableKind,
} from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { SECRET, until } from '../internode/helpers.js';
import { spawnProbe, type Probe } from './helpers.js';

// ---------------------------------------------------------------- exact equality

/** Exact structural equality: Object.is on numbers (so -0 and NaN), classes and key order checked. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (a instanceof Pid) return b instanceof Pid && a.equals(b);
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    const x = [...a];
    const y = [...b];
    return x.every(([k, v], i) => same(k, y[i]![0]) && same(v, y[i]![1]));
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    const y = [...b];
    return [...a].every((v, i) => same(v, y[i]));
  }
  if (a instanceof Error) {
    if (!(b instanceof Error) || a.name !== b.name || a.message !== b.message || a.stack !== b.stack) return false;
    if (Object.hasOwn(a, 'cause') !== Object.hasOwn(b, 'cause') || !same(a.cause, b.cause)) return false;
    return sameFields(a, b);
  }
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (Array.isArray(b) || b instanceof Map || b instanceof Set || b instanceof Pid || b instanceof Date) return false;
  return sameFields(a, b);
}

function sameFields(a: object, b: object): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(ra[k], rb[k]));
}

// ---------------------------------------------------------------- the allowed value space

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
const pid = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9_@.:-]{1,20}$/), fc.nat(), fc.nat())
  .map(([node, id, inc]) => new Pid(node, id, inc));
const leaf = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.double(), // -0, NaN and the infinities among them
  fc.integer(),
  fc.maxSafeInteger(),
  text,
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.date(),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
  pid,
);

const { value: message } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    leaf,
    tie('array'),
    tie('object'),
    tie('map'),
    tie('set'),
    tie('error'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }).map((o) => ({ ...o })),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 3 }).map((values) => new Set(values)),
  error: fc
    .record({
      name: fc.constantFrom('Error', 'TypeError', 'TroupeError', 'MyError'),
      message: text,
      code: fc.option(fc.constantFrom('ERR_X', 'ECONNRESET'), { nil: undefined }),
      detail: fc.option(tie('value'), { nil: undefined }),
      cause: fc.option(tie('value'), { nil: undefined }),
    })
    .map(({ name, message: msg, code, detail, cause }) => {
      const e = cause === undefined ? new Error(msg) : new Error(msg, { cause });
      if (name !== 'Error') e.name = name; // an own enumerable name, like TroupeError's
      if (code !== undefined) Object.assign(e, { code });
      if (detail !== undefined) Object.assign(e, { detail });
      return e;
    }),
}));

describe('the codec carries every message exactly', () => {
  it('round-trips the allowed value space (property)', () => {
    fc.assert(
      fc.property(message, (v) => {
        validateMessage(v);
        const back = decode(encode(v));
        expect(same(v, back)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps what msgpack alone loses: BigInt of any size, -0, Map, Set, Error code and fields', () => {
    const err = Object.assign(new TroupeError('ERR_LIMIT', 'too many'), { limit: 3n, where: new Map([['k', 1]]) });
    const v = {
      big: 2n ** 1000n + 1n,
      small: -5n,
      zero: -0,
      map: new Map<unknown, unknown>([
        [1, 'one'],
        [{ k: 1 }, new Set([1, 'x'])],
      ]),
      err,
      when: new Date(1234567890123),
      bytes: new Uint8Array([0, 1, 255]),
    };
    const back = decode(encode(v)) as typeof v;
    expect(same(v, back)).toBe(true);
    expect(typeof back.big).toBe('bigint');
    expect(Object.is(back.zero, -0)).toBe(true);
    expect(back.map).toBeInstanceOf(Map);
    // An error arrives as a plain Error with the fields it was sent with; its class does not travel.
    expect(back.err).toBeInstanceOf(Error);
    expect(back.err).not.toBeInstanceOf(TroupeError);
    expect(back.err.name).toBe('TroupeError');
    expect((back.err as unknown as { code: string }).code).toBe('ERR_LIMIT');
    expect(Object.getPrototypeOf(back.err)).toBe(Error.prototype);
  });

  it('decodes an error safely: fields are defined on the error, never on a prototype', () => {
    const e = new Error('x');
    Object.defineProperty(e, 'constructor', { value: 'not a class', enumerable: true });
    Object.defineProperty(e, 'toString', { value: 1, enumerable: true });
    const back = decode(encode(e)) as Error & Record<string, unknown>;
    expect(back.constructor).toBe('not a class');
    expect(back.toString).toBe(1);
    expect(Object.getPrototypeOf(back)).toBe(Error.prototype);
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it('refuses structured-clone references from the wire: a peer cannot send a cycle', () => {
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    const bytes = new Packr({ structuredClone: true }).pack(cycle);
    expect(() => decode(bytes)).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
  });

  it('refuses a malformed extension from the wire as ERR_DECODE', () => {
    // fixext1 0xd4, type, filler 0, then the payload the reader validates.
    const ext = (type: number, payload: unknown): Buffer =>
      Buffer.concat([Buffer.from([0xd4, type, 0]), encode(payload)]);
    for (const [type, payload] of [
      [0x51, 'xyz'],
      [0x51, 12],
      [0x52, [1]],
      [0x53, 'set'],
      [0x54, ['Error']],
      [0x54, ['Error', 'm', 5, null, {}]],
    ] as const) {
      expect(() => decode(ext(type, payload))).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
    }
  });
});

// ---------------------------------------------------------------- what is refused

function cyclic(): unknown {
  const root: { a: { self?: unknown } } = { a: {} };
  root.a.self = root;
  return root;
}

function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** [1, <hole>, 3] */
function sparse(): unknown[] {
  const a: unknown[] = [1];
  a[2] = 3;
  return a;
}

class Temperature {
  constructor(readonly celsius: number) {}
}

/** [what, value, path under the root, kind] */
const REFUSED: ReadonlyArray<readonly [string, unknown, string, UnserializableKind]> = [
  ['a function deep inside', { items: [1, 2, 3, { cb: () => 1 }] }, '.items[3].cb', 'function'],
  ['a symbol', { s: Symbol('x') }, '.s', 'symbol'],
  ['a cycle', cyclic(), '.a.self', 'cycle'],
  ['a class instance', { t: new Temperature(3) }, '.t', 'class'],
  ['a RegExp', [/x/], '[0]', 'class'],
  ['a typed array other than Uint8Array', { f: new Float64Array(2) }, '.f', 'class'],
  ['a Map subclass', { m: new (class Registry extends Map {})() }, '.m', 'class'],
  ['a promise', { p: Promise.resolve(1) }, '.p', 'class'],
  ['a hole in a sparse array', { a: sparse() }, '.a[1]', 'hole'],
  ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"x":1}}}') as unknown, '.a.__proto__', 'key'],
  ['a lone surrogate', { s: 'ok\ud800' }, '.s', 'string'],
  ['a function as a map value', new Map([['k', () => 1]]), '.get("k")', 'function'],
  ['a function as a map key', new Map([[() => 1, 'v']]), '.entries()[0][0]', 'function'],
  ['a symbol in a set', new Set([1, Symbol('s')]), '.values()[1]', 'symbol'],
  ['a function in an error field', Object.assign(new Error('x'), { retry: () => 1 }), '.retry', 'function'],
  ['a function as an error cause', new Error('x', { cause: { f: () => 1 } }), '.cause.f', 'function'],
  ['an odd key', { 'a b': [() => 1] }, '["a b"][0]', 'function'],
  [
    'nesting past MAX_MESSAGE_DEPTH',
    nested(limits.MAX_MESSAGE_DEPTH + 1),
    '[0]'.repeat(limits.MAX_MESSAGE_DEPTH),
    'depth',
  ],
];

/** Refused by the codec and by sends to remote targets; a local target gets the value itself (the check costs). */
const SYMBOL_KEYED = { o: { [Symbol('k')]: 1 } };
const SURROGATE_KEY = { o: { '\ud800': 1 } };

function expectRefused(f: () => unknown, path: string, kind: UnserializableKind): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UnserializableError);
  expect(isTroupeError(caught, 'ERR_UNSERIALIZABLE')).toBe(true);
  expect((caught as UnserializableError).path).toBe(path);
  expect((caught as UnserializableError).kind).toBe(kind);
}

describe('what is not a message', () => {
  it('accepts nesting up to MAX_MESSAGE_DEPTH', () => {
    expect(() => validateMessage(nested(limits.MAX_MESSAGE_DEPTH))).not.toThrow();
    expect(same(decode(encode(nested(limits.MAX_MESSAGE_DEPTH))), nested(limits.MAX_MESSAGE_DEPTH))).toBe(true);
  });

  it.each(REFUSED)('refuses %s, naming its path (validate and encode)', (_what, value, path, kind) => {
    expectRefused(() => validateMessage(value), `msg${path}`, kind);
    expectRefused(() => encode(value), `value${path}`, kind);
  });

  it('refuses a symbol-keyed property and a lone surrogate in a key (validate and encode)', () => {
    expectRefused(() => validateMessage(SYMBOL_KEYED), 'msg.o', 'key');
    expectRefused(() => encode(SYMBOL_KEYED), 'value.o', 'key');
    expect(() => validateMessage(SYMBOL_KEYED, 'msg', false)).not.toThrow(); // the local check skips keys
    expectRefused(() => validateMessage(SURROGATE_KEY), 'msg.o["\\ud800"]', 'key');
    expectRefused(() => encode(SURROGATE_KEY), 'value.o["\\ud800"]', 'key');
    expect(() => validateMessage(SURROGATE_KEY, 'msg', false)).not.toThrow();
  });
});

// ---------------------------------------------------------------- sends: local and remote alike

interface Member {
  readonly node: Node;
  readonly net: Internode;
}
let a: Member;
let b: Member;
let onA: Probe;
let onB: Probe;

beforeAll(async () => {
  const start = async (name: string, seeds: string[]): Promise<Member> => {
    const node = await Node.start({ name, incarnation: 1 });
    const net = await Internode.start({ node, cluster: 'contract', secret: SECRET, listen: '127.0.0.1:0', seeds });
    return { node, net };
  };
  a = await start('a', []);
  b = await start('b', [a.net.address]);
  await until(() => a.net.upNodes().includes('b') && b.net.upNodes().includes('a'));
  onA = spawnProbe(a.node);
  onB = spawnProbe(b.node);
});

afterAll(async () => {
  for (const m of [b, a]) {
    await m.net.stop();
    await m.node.stop();
  }
});

/** The probe's next message is `marker`: nothing was delivered before it. */
async function nothingBefore(probe: Probe, from: Node, marker: string): Promise<void> {
  from.send(probe.pid, marker);
  expect(await probe.next()).toBe(marker);
}

describe('sends keep one contract, local and remote', () => {
  it.each(REFUSED)('refuses %s at the sender, to a local and to a remote pid', async (what, value, path, kind) => {
    expectRefused(() => a.node.send(onA.pid, value), `msg${path}`, kind);
    expectRefused(() => a.node.send(onB.pid, value), `msg${path}`, kind);
    expectRefused(() => a.node.send({ node: 'b', name: 'nobody' }, value), `msg${path}`, kind);
    await nothingBefore(onA, a.node, `after ${what} (local)`);
    await nothingBefore(onB, a.node, `after ${what} (remote)`);
  });

  it('refuses a symbol-keyed property sent to a remote target; a local one gets the value itself', async () => {
    expectRefused(() => a.node.send(onB.pid, SYMBOL_KEYED), 'msg.o', 'key');
    expectRefused(() => a.node.sendEach([onA.pid, onB.pid], SYMBOL_KEYED), 'msg.o', 'key');
    expectRefused(() => a.node.send(onB.pid, SURROGATE_KEY), 'msg.o["\\ud800"]', 'key');
    await nothingBefore(onA, a.node, 'after the symbol-keyed sends (local)');
    await nothingBefore(onB, a.node, 'after the symbol-keyed sends (remote)');
    a.node.send(onA.pid, SYMBOL_KEYED);
    expect(await onA.next()).toBe(SYMBOL_KEYED);
  });

  it('refuses in ctx.send, call, cast, reply and sendAwait, with paths from what the caller passed', async () => {
    const echo = b.node.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive()) as { type: string; from: { pid: Pid; ref: string } };
        if (m.type !== '$call') continue;
        expectRefused(() => ctx.reply(m.from, { f: () => 1 }), 'reply.f', 'function');
        ctx.reply(m.from, 'fine');
      }
    });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      a.node.spawn(async (ctx) => {
        for (const target of [onA.pid, onB.pid]) {
          try {
            ctx.send(target, [Symbol('s')]);
          } catch (err) {
            seen.push(`send ${(err as UnserializableError).path}`);
          }
          try {
            ctx.cast(target, { deep: { f: () => 1 } });
          } catch (err) {
            seen.push(`cast ${(err as UnserializableError).path}`);
          }
        }
        await ctx.call(echo, { ok: true }).then((r) => seen.push(`call answered ${String(r)}`));
        await ctx.call(echo, { args: [1, () => 2] }).catch((err: UnserializableError) => seen.push(`call ${err.path}`));
        resolve();
      });
    });
    await done;
    expect(seen).toEqual([
      'send msg[0]',
      'cast msg.deep.f',
      'send msg[0]',
      'cast msg.deep.f',
      'call answered fine',
      'call request.args[1]',
    ]);
    await expect(a.net.sendAwait(undefined, onB.pid, { f: () => 1 })).rejects.toMatchObject({
      code: 'ERR_UNSERIALIZABLE',
      path: 'msg.f',
    });
    await expect(a.node.call(echo, new Temperature(1))).rejects.toMatchObject({
      code: 'ERR_UNSERIALIZABLE',
      path: 'request',
    });
    await nothingBefore(onA, a.node, 'after the process sends (local)');
    await nothingBefore(onB, a.node, 'after the process sends (remote)');
  });

  it('delivers every kind of message value: the same reference locally, an equal value remotely', async () => {
    const v = {
      big: -(2n ** 100n),
      zero: -0,
      map: new Map<unknown, unknown>([['k', new Set([1n, 'x'])]]),
      err: Object.assign(new TypeError('bad'), { code: 'E_BAD', data: [1, undefined] }),
      when: new Date(0),
      bytes: Buffer.from([1, 2, 3]),
      self: onA.pid,
    };
    a.node.send(onA.pid, v);
    expect(await onA.next()).toBe(v); // validated, not copied
    a.node.send(onB.pid, v);
    const got = await onB.next();
    expect(same(v, got)).toBe(true);
    expect((got as typeof v).err).not.toBeInstanceOf(TypeError); // the class does not travel; name and fields do
  });

  it('bounds the size the same way: what fits the wire fits locally, one byte more is ERR_LIMIT for both', async () => {
    // A Buffer of n bytes encodes to n + 5 (bin 32 header).
    const room = limits.MAX_MESSAGE_BYTES - limits.MESSAGE_ENVELOPE_BYTES - 5;
    const fits = Buffer.alloc(room, 7);
    a.node.send(onA.pid, fits);
    expect(await onA.next()).toBe(fits);
    a.node.send(onB.pid, fits);
    expect(((await onB.next()) as Buffer).length).toBe(room);
    const over = Buffer.alloc(room + 1, 7);
    const limited = (f: () => void): void => {
      expect(f).toThrow(TroupeError);
      expect(f).toThrow(expect.objectContaining({ code: 'ERR_LIMIT' }));
    };
    limited(() => a.node.send(onA.pid, over));
    limited(() => a.node.send(onB.pid, over));
    // Past the lower bound's reach the size is checked exactly: 470,000 doubles are ~4.2 MB encoded.
    const doubles = new Array<number>(470_000).fill(0.5);
    limited(() => a.node.send(onA.pid, doubles));
    limited(() => a.node.send(onB.pid, doubles));
    await nothingBefore(onA, a.node, 'after the large ones (local)');
    await nothingBefore(onB, a.node, 'after the large ones (remote)');
  });
});
