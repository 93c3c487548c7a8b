// Laws of the pg core, checked with fast-check (shrinking gives the smallest counterexample):
// the differential re-sync computes a minimal, exact multiset difference; and on one node, any
// sequence of joins, leaves and exits keeps `members` equal to the rule-4 list model, with every
// monitor's snapshot plus events replaying to the current view.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pid } from '../../runtime/pid.js';
import { multisetDiff } from '../../pg/group.js';
import { PgScope } from '../../pg/index.js';
import { multiset, sameCounts } from './harness.js';

const PIDS = Array.from({ length: 5 }, (_, i) => new Pid('a', i + 1, 1));
const GROUPS = ['g', 'h', 'i'];
const pidArb = fc.integer({ min: 0, max: PIDS.length - 1 }).map((i) => PIDS[i] as Pid);
const groupArb = fc.constantFrom(...GROUPS);

describe('pg laws', () => {
  it('multisetDiff: old - removed + added = new, and nothing is both removed and added', () => {
    fc.assert(
      fc.property(fc.array(pidArb, { maxLength: 12 }), fc.array(pidArb, { maxLength: 12 }), (oldBlock, newBlock) => {
        const { added, removed } = multisetDiff(oldBlock, newBlock);
        const result = multiset(oldBlock);
        for (const p of removed) {
          const n = (result.get(p.toString()) ?? 0) - 1;
          expect(n).toBeGreaterThanOrEqual(0);
          if (n === 0) result.delete(p.toString());
          else result.set(p.toString(), n);
        }
        for (const p of added) result.set(p.toString(), (result.get(p.toString()) ?? 0) + 1);
        expect(sameCounts(result, multiset(newBlock))).toBe(true);
        const removedKeys = new Set(removed.map(String));
        expect(added.some((p) => removedKeys.has(p.toString()))).toBe(false);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });

  type Command =
    | { readonly kind: 'join'; readonly groups: string[]; readonly pids: Pid[] }
    | { readonly kind: 'leave'; readonly groups: string[]; readonly pids: Pid[] }
    | { readonly kind: 'exit'; readonly pid: Pid }
    | { readonly kind: 'monitor'; readonly group: string | undefined };

  const commandArb: fc.Arbitrary<Command> = fc.oneof(
    fc.record({
      kind: fc.constant('join' as const),
      groups: fc.array(groupArb, { minLength: 1, maxLength: 2 }),
      pids: fc.array(pidArb, { maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('leave' as const),
      groups: fc.array(groupArb, { minLength: 1, maxLength: 2 }),
      pids: fc.array(pidArb, { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant('exit' as const), pid: pidArb }),
    fc.record({ kind: fc.constant('monitor' as const), group: fc.option(groupArb, { nil: undefined }) }),
  );

  it('one node: members follow the rule-4 list model and monitors replay to the view', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), (commands) => {
        const scope = new PgScope({ scope: 'p', node: 'a', incarnation: 1 });
        const model = new Map<string, Pid[]>();
        const monitors: { ref: number; group: string | undefined; replay: Map<string, Map<string, number>> }[] = [];
        const apply = (ref: number, replay: Map<string, Map<string, number>>): void => {
          for (const event of scope.takeEvents(ref)) {
            if (event.kind === 'overflow') throw new Error('unexpected overflow');
            const counts = replay.get(event.group) ?? new Map<string, number>();
            for (const p of event.pids)
              counts.set(p.toString(), (counts.get(p.toString()) ?? 0) + (event.kind === 'join' ? 1 : -1));
            for (const [k, n] of counts) if (n === 0) counts.delete(k);
            replay.set(event.group, counts);
          }
        };
        for (const command of commands) {
          if (command.kind === 'join') {
            scope.join(command.groups, command.pids);
            if (command.pids.length > 0)
              for (const g of command.groups) model.set(g, [...command.pids, ...(model.get(g) ?? [])]);
          } else if (command.kind === 'leave') {
            let removed = false;
            for (const g of command.groups) {
              const list = model.get(g) ?? [];
              for (const p of command.pids) {
                const at = list.indexOf(p);
                if (at >= 0) {
                  list.splice(at, 1);
                  removed = true;
                }
              }
            }
            expect(scope.leave(command.groups, command.pids)).toBe(removed ? 'ok' : 'not_joined');
          } else if (command.kind === 'exit') {
            scope.processExit(command.pid);
            for (const [g, list] of model)
              model.set(
                g,
                list.filter((p) => p !== command.pid),
              );
          } else if (command.group === undefined) {
            const { ref, snapshot } = scope.monitorScope();
            monitors.push({
              ref,
              group: undefined,
              replay: new Map([...snapshot].map(([g, pids]) => [g, multiset(pids)])),
            });
          } else {
            const { ref, snapshot } = scope.monitor(command.group);
            monitors.push({ ref, group: command.group, replay: new Map([[command.group, multiset(snapshot)]]) });
          }
          for (const m of monitors) apply(m.ref, m.replay);
          for (const g of GROUPS) {
            expect(scope.members(g)).toEqual(model.get(g) ?? []);
            expect(scope.localMembers(g)).toEqual(model.get(g) ?? []);
            for (const m of monitors) {
              if (m.group !== undefined && m.group !== g) continue;
              expect(sameCounts(m.replay.get(g) ?? new Map(), multiset(scope.members(g)))).toBe(true);
            }
          }
          expect([...scope.whichGroups()].sort()).toEqual(GROUPS.filter((g) => (model.get(g) ?? []).length > 0));
        }
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
});
