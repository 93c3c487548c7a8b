// The consistent registry as a Raft tenant: batches arrive as msgpack bytes in log order; each
// batch's results go back to its proposer, its events to this node's watch hub.
import { decode } from '../../runtime/base.js';
import type { Tenant } from '../../raft/host/index.js';
import { ConsistentNamesMachine } from './state-machine.js';
import type { NameErrorResult, NamesBatchResult } from './types.js';
import type { NameWatchHub } from './watch.js';

export class ConsistentNamesTenant implements Tenant<NamesBatchResult | NameErrorResult> {
  readonly machine = new ConsistentNamesMachine();

  constructor(private readonly hub: NameWatchHub) {}

  apply(command: Uint8Array, index: number): NamesBatchResult | NameErrorResult {
    let cmd: unknown;
    try {
      cmd = decode(command);
    } catch (error) {
      cmd = { undecodable: (error as Error).message };
    }
    const out = this.machine.apply(cmd, index);
    if (out.events.length > 0) this.hub.publish(out.events);
    return out.result;
  }

  snapshot(): Uint8Array {
    return this.machine.snapshot();
  }

  restore(image: Uint8Array): void {
    this.machine.restore(image);
    this.hub.reset(new Map([['', this.machine.revision]]));
  }
}
