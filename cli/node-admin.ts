// The admin process every `troupe node` runs, registered as `troupe`: it answers status calls
// and tells remote callers its pid (a remote name can be sent to; a pid can be called).
import { isCall, type Node, type Pid, type ServerBehaviour } from '../runtime/index.js';
import { startServer } from '../runtime/index.js';
import type { Internode, MemberInfo } from '../internode/index.js';

export const ADMIN_NAME = 'troupe';

export type AdminRequest = { op: 'info' } | { op: 'ping' } | { op: 'echo'; value: unknown };
export interface AdminInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly members: MemberInfo[];
  readonly processes: number;
}

/** A plain message `{ type: 'whoami', from }` sent to `{ node, name: 'troupe' }` gets `{ type: 'iam', pid }` back. */
export interface WhoAmI {
  readonly type: 'whoami';
  readonly from: Pid;
}

export function startAdmin(node: Node, net: Internode): Promise<Pid> {
  const behaviour: ServerBehaviour<null, void, AdminRequest, unknown> = {
    init: () => null,
    handleCall(req, _from, state) {
      switch (req.op) {
        case 'info':
          return {
            reply: { node: node.name, incarnation: node.incarnation, address: net.address, members: net.members(), processes: node.stats().processes } satisfies AdminInfo,
            state,
          };
        case 'ping':
          return { reply: 'pong', state };
        case 'echo':
          return { reply: req.value, state };
      }
    },
    handleInfo(message, state, ctx) {
      const m = message as Partial<WhoAmI>;
      if (!isCall(message) && m.type === 'whoami' && m.from !== undefined) ctx.send(m.from, { type: 'iam', pid: ctx.self });
      return { state };
    },
  };
  return startServer(node, behaviour, undefined, { name: ADMIN_NAME });
}
