// The recorder writes lines of the history format that the parser reads back as they were
// meant: completed, indeterminate and failed outcomes, times from the injected clock only.
import { describe, expect, it } from 'vitest';
import { HistoryRecorder, parseHistory } from '../../sim/check/index.js';

function clock(): { now: () => number; advance: (ns: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ns) => (t += ns) };
}

describe('HistoryRecorder', () => {
  it('writes completed, indeterminate and failed operations that parse back', () => {
    const c = clock();
    const lines: string[] = [];
    const rec = new HistoryRecorder({ now: c.now, onLine: (l) => lines.push(l) });
    const put = rec.invoke(1, { op: 'put', key: 'x', value: '1' });
    c.advance(10);
    put.ok({ rev: 5 });
    const get = rec.invoke(2, { op: 'get', key: 'x' }, { extra: { node: 'a' } });
    c.advance(10);
    get.ok({ read: '1', rev: 5 });
    const cas = rec.invoke(3, { op: 'cas', key: 'x', expect: null, value: '2' });
    c.advance(5);
    cas.ok({ ok: false });
    rec.invoke('n1', { op: 'register', key: 'leader', value: 'n1' }).timeout();
    rec.invoke(1, { op: 'delete', key: 'x' }).fail('unavailable');
    expect(lines).toEqual(rec.lines());
    expect(rec.written).toBe(5);
    const parsed = parseHistory(rec.text());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.ops.map((o) => [o.op, o.outcome, o.call, o.ret])).toEqual([
      ['put', 'ok', 1000, 1010],
      ['get', 'ok', 1010, 1020],
      ['cas', 'ok', 1020, 1025],
      ['register', 'timeout', 1025, 1025],
      ['delete', 'failed', 1025, 1025],
    ]);
    expect(parsed.ops[1]).toMatchObject({ read: '1', rev: 5 });
    expect(parsed.ops[2]).toMatchObject({ expect: null, ok: false });
    expect(JSON.parse(lines[1]!)).toMatchObject({ node: 'a' });
  });

  it('takes times passed in when it has no clock, and close() ends pending operations as timeouts', () => {
    const rec = new HistoryRecorder();
    rec.invoke(1, { op: 'put', key: 'k', value: 'v' }, { at: 5 }).ok({}, 9);
    rec.invoke(2, { op: 'get', key: 'k' }, { at: 7 });
    expect(rec.pending).toBe(1);
    rec.close();
    expect(rec.pending).toBe(0);
    expect(rec.lines().map((l) => JSON.parse(l))).toEqual([
      { client: 1, op: 'put', key: 'k', value: 'v', call: 5, ret: 9, ok: true },
      { client: 2, op: 'get', key: 'k', call: 7, ret: null, error: 'timeout' },
    ]);
    expect(() => rec.invoke(1, { op: 'get', key: 'k' })).toThrow(/no clock/);
  });

  it('refuses what the format forbids: ending twice, ret before call, a get without a read', () => {
    const rec = new HistoryRecorder();
    const op = rec.invoke(1, { op: 'put', key: 'k', value: 'v' }, { at: 5 });
    expect(() => op.ok({}, 4)).toThrow(/before call/);
    op.ok({}, 6);
    expect(() => op.ok({}, 7)).toThrow(/twice/);
    expect(() => rec.invoke(1, { op: 'get', key: 'k' }, { at: 1 }).ok({}, 2)).toThrow(/read/);
    expect(() => rec.invoke(1, { op: 'get', key: 'k' }, { at: 1.5 })).toThrow(/integer/);
  });

  it('run() records the value, and an error as indeterminate unless classified as definite', async () => {
    const c = clock();
    const rec = new HistoryRecorder({ now: c.now });
    await rec.run(
      1,
      { op: 'get', key: 'k' },
      async () => 'v',
      (v) => ({ read: v }),
    );
    await expect(
      rec.run(
        1,
        { op: 'put', key: 'k', value: 'w' },
        () => Promise.reject(new Error('lost')),
        () => ({}),
      ),
    ).rejects.toThrow('lost');
    await expect(
      rec.run(
        1,
        { op: 'put', key: 'k', value: 'w' },
        () => Promise.reject(new Error('refused')),
        () => ({}),
        () => ({ kind: 'failed', error: 'rejected' }),
      ),
    ).rejects.toThrow('refused');
    expect(rec.lines().map((l) => JSON.parse(l).error ?? 'ok')).toEqual(['ok', 'timeout', 'rejected']);
  });
});

describe('parseHistory', () => {
  const bad: Array<[string, RegExp]> = [
    ['[1]', /not a JSON object/],
    ['{"client":1,"op":"inc","key":"x","call":1,"ret":2}', /unknown op/],
    ['{"client":1,"op":"cas","key":"x","value":"1","call":1,"ret":2,"ok":true}', /expect/],
    ['{"client":1,"op":"get","key":"x","call":1,"ret":2}', /read/],
    ['{"client":1,"op":"get","key":"x","call":1.5,"ret":2,"read":null}', /call/],
    ['{"client":1,"op":"get","key":"x","call":3,"ret":2,"read":null}', /before/],
    ['{"client":1,"op":"put","key":"x","value":"1","call":1}', /ret/],
    ['{"client":1,"op":"put","key":"x","value":"1","call":1,"ret":2,"ok":false}', /ok/],
    ['{"client":1,"op":"lookup","key":"x","call":1,"ret":2,"ok":false,"read":null}', /ok/],
    ['{"client":1,"op":"cas","key":"x","value":"1","expect":"0","expectRev":3,"call":1,"ret":2,"ok":true}', /both/],
    ['{"client":true,"op":"get","key":"x","call":1,"ret":2,"read":null}', /client/],
    ['not json', /JSON/],
  ];
  for (const [line, reason] of bad)
    it(`rejects the whole history for ${line.slice(0, 60)}`, () => {
      const good = '{"client":1,"op":"get","key":"x","call":1,"ret":2,"read":null}';
      const result = parseHistory(`${good}\n\n${line}\n${good}\n`);
      expect(result).toMatchObject({ ok: false, line: 3 });
      if (!result.ok) expect(result.reason).toMatch(reason);
    });

  it('reads the examples of the format page, whereis as lookup, and ignores unknown fields', () => {
    const text = [
      '{"client":1,"op":"put","key":"x","value":"1","call":1000,"ret":2500,"ok":true,"node":"a"}',
      '{"client":"n1","op":"register","key":"leader","value":"n1","call":3200,"ret":null,"error":"timeout"}',
      '{"client":"n2","op":"whereis","key":"leader","call":5000,"ret":5600,"ok":true,"read":"n1","fence":7}',
      '{"client":1,"op":"delete","key":"x","call":7000,"ret":7400,"error":"unavailable"}',
    ].join('\n');
    const result = parseHistory(text);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ops.map((o) => `${o.op}:${o.outcome}`)).toEqual([
      'put:ok',
      'register:timeout',
      'lookup:ok',
      'delete:failed',
    ]);
    expect(result.ops[2]).toMatchObject({ read: 'n1', fence: 7 });
  });
});
