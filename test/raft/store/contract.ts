// The contract every LogStore passes (the memory store and the LMDB store run the same suite).
// `reopen` gives the store as a restarted node would see it: the same object for memory, a
// fresh LMDB environment on the same directory for LMDB.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot, Write } from '../../../raft/index.js';
import type { LogStore, StoredLog } from '../../../raft/store/index.js';
import { applySnapshot, applyWrite } from '../../../raft/store/apply-write.js';
import { isTroupeError } from '../../../runtime/base.js';

export interface StoreFactory {
  /** A new, empty store. */
  create(): Promise<LogStore>;
  /** The same store after a restart (the old handle is closed by the factory if needed). */
  reopen(store: LogStore): Promise<LogStore>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
export const normal = (index: number, term: number, text = `c${index}`): Entry => ({
  kind: 'normal',
  index,
  term,
  data: bytes(text),
});
const write = (id: number, parts: Partial<Write>): Write => ({
  id,
  hardState: null,
  snapshot: null,
  entries: [],
  ...parts,
});
const snap = (index: number, term: number): Snapshot => ({
  meta: { index, term, membership: { voters: ['a', 'b', 'c'], learners: [] } },
  data: bytes(`image@${index}`),
});
const EMPTY: StoredLog = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };

/** Plain data (Buffers become Uint8Arrays) so toEqual compares values, not classes. */
function plain(log: StoredLog): unknown {
  const b = (u: Uint8Array) => Array.from(u);
  return {
    hardState: log.hardState,
    snapshot: log.snapshot === null ? null : { meta: log.snapshot.meta, data: b(log.snapshot.data) },
    entries: log.entries.map((e) => (e.kind === 'normal' ? { ...e, data: b(e.data) } : e)),
  };
}

export function logStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} passes the LogStore contract`, () => {
    it('a new store has no groups and loads an empty log', async () => {
      const store = await factory.create();
      expect(store.groups()).toEqual([]);
      expect(plain(store.load('g1'))).toEqual(plain(EMPTY));
      await store.close();
    });

    it('keeps entries and hard state across a restart', async () => {
      let store = await factory.create();
      await store.persist([
        {
          group: 'g1',
          write: write(1, { hardState: { term: 1, vote: 'a', commit: 0 }, entries: [normal(1, 1), normal(2, 1)] }),
        },
      ]);
      await store.persist([{ group: 'g1', write: write(2, { hardState: { term: 1, vote: 'a', commit: 2 } }) }]);
      store = await factory.reopen(store);
      expect(store.groups()).toEqual(['g1']);
      const log = store.load('g1');
      expect(log.hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
      expect(plain(log)).toEqual(
        plain({ hardState: log.hardState, snapshot: null, entries: [normal(1, 1), normal(2, 1)] }),
      );
      const head = log.entries[0]!;
      expect(head.kind === 'normal' && new TextDecoder().decode(head.data)).toBe('c1');
      await store.close();
    });

    it('entries truncate the log from their first index, then append', async () => {
      let store = await factory.create();
      const hs = { term: 2, vote: null, commit: 1 };
      await store.persist([
        { group: 'g1', write: write(1, { hardState: hs, entries: [1, 2, 3, 4].map((i) => normal(i, 1)) }) },
      ]);
      await store.persist([{ group: 'g1', write: write(2, { entries: [normal(3, 2, 'new3')] }) }]);
      store = await factory.reopen(store);
      expect(store.load('g1').entries.map((e) => [e.index, e.term])).toEqual([
        [1, 1],
        [2, 1],
        [3, 2],
      ]);
      await store.close();
    });

    it('a snapshot in a write replaces the whole log', async () => {
      let store = await factory.create();
      const hs = { term: 3, vote: null, commit: 2 };
      await store.persist([
        { group: 'g1', write: write(1, { hardState: hs, entries: [1, 2].map((i) => normal(i, 1)) }) },
      ]);
      await store.persist([
        { group: 'g1', write: write(2, { snapshot: snap(10, 3), hardState: { ...hs, commit: 10 } }) },
      ]);
      await store.persist([{ group: 'g1', write: write(3, { entries: [normal(11, 3)] }) }]);
      store = await factory.reopen(store);
      const log = store.load('g1');
      expect(log.snapshot?.meta.index).toBe(10);
      expect(Array.from(log.snapshot!.data)).toEqual(Array.from(bytes('image@10')));
      expect(log.entries.map((e) => e.index)).toEqual([11]);
      await store.close();
    });

    it('a saved snapshot drops the entries it covers, or keeps those from keepFrom', async () => {
      let store = await factory.create();
      const hs = { term: 1, vote: null, commit: 6 };
      const entries = [1, 2, 3, 4, 5, 6].map((i) => normal(i, 1));
      await store.persist([
        { group: 'g1', write: write(1, { hardState: hs, entries }) },
        { group: 'g2', write: write(1, { hardState: hs, entries }) },
      ]);
      await store.saveSnapshot('g1', snap(4, 1));
      await store.saveSnapshot('g2', snap(4, 1), 3);
      store = await factory.reopen(store);
      expect(store.load('g1').entries.map((e) => e.index)).toEqual([5, 6]);
      expect(store.load('g2').entries.map((e) => e.index)).toEqual([3, 4, 5, 6]);
      expect(store.load('g2').snapshot?.meta.index).toBe(4);
      await store.close();
    });

    it('groups are independent, and writes issued together apply in order', async () => {
      let store = await factory.create();
      const hs = (term: number) => ({ term, vote: null, commit: 0 });
      const all = Promise.all([
        store.persist([{ group: 'a', write: write(1, { hardState: hs(1), entries: [normal(1, 1)] }) }]),
        store.persist([
          { group: 'b', write: write(1, { hardState: hs(5), entries: [normal(1, 5)] }) },
          { group: 'a', write: write(2, { entries: [normal(2, 1)] }) },
        ]),
        store.persist([{ group: 'a', write: write(3, { hardState: hs(2), entries: [normal(2, 2)] }) }]),
      ]);
      await all;
      store = await factory.reopen(store);
      expect([...store.groups()].sort()).toEqual(['a', 'b']);
      expect(store.load('a').entries.map((e) => [e.index, e.term])).toEqual([
        [1, 1],
        [2, 2],
      ]);
      expect(store.load('a').hardState.term).toBe(2);
      expect(store.load('b').hardState.term).toBe(5);
      await store.close();
    });

    it('refuses a bad group id and any use after close, with typed errors', async () => {
      const store = await factory.create();
      expect(() => store.load('Bad Group')).toThrow(expect.objectContaining({ code: 'ERR_RAFT_BAD_OPTIONS' }));
      await expect(store.persist([{ group: '', write: write(1, {}) }])).rejects.toMatchObject({
        code: 'ERR_RAFT_BAD_OPTIONS',
      });
      await store.close();
      const closed = await store.persist([{ group: 'g', write: write(1, {}) }]).catch((e: unknown) => e);
      expect(isTroupeError(closed, 'ERR_RAFT_STORE_CLOSED')).toBe(true);
    });

    it('reloads exactly what a random sequence of engine writes describes (property)', async () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('append' as const), back: fc.nat(3), count: fc.integer({ min: 1, max: 4 }) }),
        fc.record({ kind: fc.constant('hard' as const), commitBack: fc.nat(2) }),
        fc.record({ kind: fc.constant('install' as const), ahead: fc.integer({ min: 1, max: 5 }) }),
        fc.record({ kind: fc.constant('save' as const), trailing: fc.nat(2) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
          let store = await factory.create();
          let model: StoredLog = EMPTY;
          let term = 1;
          let id = 0;
          const last = () => model.entries.at(-1)?.index ?? model.snapshot?.meta.index ?? 0;
          const first = () => (model.snapshot?.meta.index ?? 0) + 1;
          for (const o of ops) {
            let w: Write | null = null;
            if (o.kind === 'append') {
              term++;
              const from = Math.max(first(), last() + 1 - o.back);
              const entries = Array.from({ length: o.count }, (_, i) => normal(from + i, term));
              w = write(++id, { hardState: { term, vote: null, commit: model.hardState.commit }, entries });
            } else if (o.kind === 'hard') {
              w = write(++id, { hardState: { term, vote: 'b', commit: Math.max(0, last() - o.commitBack) } });
            } else if (o.kind === 'install') {
              const at = last() + o.ahead;
              w = write(++id, { snapshot: snap(at, term), hardState: { term, vote: null, commit: at } });
            } else if (last() > (model.snapshot?.meta.index ?? 0)) {
              const at = last();
              const keepFrom = Math.max(1, at + 1 - o.trailing);
              await store.saveSnapshot('p', snap(at, term), keepFrom);
              model = applySnapshot(model, snap(at, term), keepFrom);
            }
            if (w !== null) {
              await store.persist([{ group: 'p', write: w }]);
              model = applyWrite(model, w);
            }
          }
          store = await factory.reopen(store);
          expect(plain(store.load('p'))).toEqual(plain(model));
          await store.close();
        }),
        { numRuns: 40 },
      );
    });
  });
}
