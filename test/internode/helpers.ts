// Helpers for internode tests: start a cluster of in-process nodes over a transport, and wait
// for events with a bound.
import { Node, VirtualClock, type Clock } from '../../runtime/index.js';
import { Internode, type InternodeOptions, type NodeEvent, type Transport } from '../../internode/index.js';

export const SECRET = 'test-secret-of-at-least-16-bytes';

export interface Member {
  readonly node: Node;
  readonly net: Internode;
}

export async function startMember(
  name: string,
  opts: Partial<InternodeOptions> & { transport?: Transport; clock?: Clock; incarnation?: number } = {},
): Promise<Member> {
  const node = await Node.start({
    name,
    incarnation: opts.incarnation ?? 1,
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
  });
  const net = await Internode.start({ node, cluster: 'test', secret: SECRET, listen: '127.0.0.1:0', ...opts });
  return { node, net };
}

/**
 * Resolves when `predicate` holds for the member's events (checked on every event), or rejects after
 * `ms` of real time.
 */
export function waitFor(net: Internode, predicate: () => boolean, ms = 10_000): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('waitFor: condition not reached in time'));
    }, ms);
    const unsubscribe = net.subscribe(() => {
      if (predicate()) {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  });
}

export function nextEvent(net: Internode, match: (e: NodeEvent) => boolean, ms = 10_000): Promise<NodeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('nextEvent: no matching event in time'));
    }, ms);
    const unsubscribe = net.subscribe((e) => {
      if (match(e)) {
        clearTimeout(timer);
        unsubscribe();
        resolve(e);
      }
    });
  });
}

export async function stopAll(...members: Member[]): Promise<void> {
  for (const m of members) {
    await m.net.stop();
    await m.node.stop();
  }
}

/** Polls a condition between turns of the event loop until it holds, or rejects after `ms` of real time. */
export async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('until: condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

export { VirtualClock };
