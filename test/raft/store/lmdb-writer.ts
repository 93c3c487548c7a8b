// A child process for the kill -9 test: appends entries (with the hard state naming the last
// one as committed) and prints "acked N" after each persist resolves, until it is killed.
import { LmdbLogStore } from '../../../raft/store/index.js';

const store = LmdbLogStore.open({ dir: process.argv[2]!, nodeId: 'writer' });
const data = new Uint8Array(512).fill(1);
for (let i = 1; ; i++) {
  await store.persist([
    {
      group: 'g',
      write: {
        id: i,
        hardState: { term: 1, vote: null, commit: i - 1 },
        snapshot: null,
        entries: [{ kind: 'normal', index: i, term: 1, data }],
      },
    },
  ]);
  process.stdout.write(`acked ${i}\n`);
}
