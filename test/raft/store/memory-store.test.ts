import { MemoryLogStore } from '../../../raft/store/index.js';
import { logStoreContract } from './contract.js';

logStoreContract('MemoryLogStore', {
  create: () => Promise.resolve(new MemoryLogStore()),
  reopen: (store) => Promise.resolve(store),
});
