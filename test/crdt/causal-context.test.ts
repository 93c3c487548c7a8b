// The causal context folds out-of-order dots into the version vector as soon as gaps close.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CausalContext, actorOf } from '../../crdt/index.js';

describe('causal context', () => {
  it('holds exactly the dots added, compacted whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.integer({ min: 1, max: 30 })), { maxLength: 80 }), (dots) => {
        const ctx = new CausalContext();
        const want = new Set<string>();
        for (const [a, c] of dots) {
          ctx.add(actorOf(`n${a}`, 1), c);
          want.add(`${a}:${c}`);
        }
        for (let a = 0; a < 3; a++) {
          let contiguous = 0;
          while (want.has(`${a}:${contiguous + 1}`)) contiguous++;
          expect(ctx.contiguous(actorOf(`n${a}`, 1))).toBe(contiguous);
          for (let c = 1; c <= 31; c++) expect(ctx.contains(actorOf(`n${a}`, 1), c)).toBe(want.has(`${a}:${c}`));
        }
        // The cloud holds only dots above a gap.
        expect(ctx.cloudSize()).toBe(
          [...want].filter((d) => {
            const [a, c] = d.split(':').map(Number) as [number, number];
            return c > ctx.contiguous(actorOf(`n${a}`, 1));
          }).length,
        );
      }),
    );
  });

  it('merge is the union of dots', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 })), fc.array(fc.integer({ min: 1, max: 20 })), (xs, ys) => {
        const a = new CausalContext();
        const b = new CausalContext();
        const actor = actorOf('m', 4);
        for (const x of xs) a.add(actor, x);
        for (const y of ys) b.add(actor, y);
        a.merge(b);
        for (let c = 1; c <= 21; c++) expect(a.contains(actor, c)).toBe(xs.includes(c) || ys.includes(c));
        const u = new CausalContext();
        for (const c of [...xs, ...ys]) u.add(actor, c);
        expect(a.equals(u)).toBe(true);
        expect(a.hash()).toEqual(u.hash());
      }),
    );
  });
});
