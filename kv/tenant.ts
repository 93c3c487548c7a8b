// The KV state machine as a Raft tenant: commands arrive as msgpack bytes in log order; each
// one's result goes back to its proposer and its events to this node's watch hub.
import { decode } from '../runtime/base.js';
import type { Tenant } from '../raft/host/index.js';
import { KvStateMachine } from './state-machine.js';
import type { KvCommand, KvResult } from './types.js';
import type { WatchHub } from './watch.js';

export class KvTenant implements Tenant<KvResult> {
  readonly machine = new KvStateMachine();

  constructor(private readonly hub: WatchHub) {}

  apply(command: Uint8Array, index: number): KvResult {
    let cmd: KvCommand;
    try {
      cmd = decode(command) as KvCommand;
    } catch (error) {
      return { type: 'error', code: 'ERR_KV_BAD_COMMAND', message: `undecodable command: ${(error as Error).message}` };
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
    const revisions = new Map<string, number>();
    for (const space of this.machine.spaces()) revisions.set(space, this.machine.spaceInfo(space)!.revision);
    this.hub.reset(revisions);
  }
}
