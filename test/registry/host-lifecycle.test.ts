// The eventual registry host's edges: ERR_STOPPED after stop(), an O(1) size, a view streamed in
// batches with yields to the event loop (never one blocking O(N) call), watch with { signal },
// and its message budgets checked against internode's limits at start.
import { describe, expect, it } from 'vitest';
import { codesOf, idle, stoppedAfterEach, thrown } from '../host-lifecycle.js';
import {
  EventualRegistry,
  MAX_AE_MESSAGE_BYTES,
  MAX_DELTA_BATCH_BYTES,
  checkRegistryFitsTransport,
} from '../../registry/index.js';
import { Node, isTroupeError, type LimitConflictError, type Pid } from '../../runtime/index.js';
import { startMember } from '../internode/helpers.js';

const MIB = 1024 * 1024;
const toStop = stoppedAfterEach();

async function solo(): Promise<{ node: Node; reg: EventualRegistry }> {
  const node = await Node.start({ name: 'solo', incarnation: 1 });
  const reg = EventualRegistry.start({ node, seed: 1 });
  toStop.push(node, reg);
  return { node, reg };
}

describe('eventual registry host', () => {
  it('after stop() every call throws ERR_STOPPED (no stale reads), and watchers end', async () => {
    const { node, reg } = await solo();
    const p = idle(node);
    reg.register('svc', p);
    const watcher = reg.watch();
    await reg.stop();
    const calls: [string, () => unknown][] = [
      ['register', () => reg.register('other', p)],
      ['unregister', () => reg.unregister('svc')],
      ['whereis', () => reg.whereis('svc')],
      ['size', () => reg.size],
      ['view', () => reg.view()],
      ['send', () => reg.send('svc', 'x')],
      ['watch', () => reg.watch()],
    ];
    expect(codesOf(calls)).toEqual(calls.map(([name]) => `${name}: ERR_STOPPED`));
    const events = [];
    for await (const e of watcher) events.push(e);
    expect(events).toEqual([]);
    expect(reg.counters().registrations).toBe(1);
  });

  it('size is O(1); view streams every name in batches, yielding to the event loop between them', async () => {
    const { node, reg } = await solo();
    const p = idle(node);
    for (let i = 0; i < 2_500; i++) reg.register(`name-${i}`, p);
    expect(reg.size).toBe(2_500);
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const seen = new Map<string, Pid>();
    for await (const [name, pid] of reg.view({ batch: 500 })) seen.set(name, pid);
    counting = false;
    expect(seen.size).toBe(2_500);
    expect(seen.get('name-7')?.equals(p)).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(4); // the event loop ran between the 5 batches
    const ac = new AbortController();
    let some = 0;
    for await (const _ of reg.view({ batch: 10, signal: ac.signal })) if (++some === 25) ac.abort();
    expect(some).toBe(25);
  });

  it('watch({ signal }) ends when the signal aborts', async () => {
    const { node, reg } = await solo();
    const ac = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of reg.watch({ signal: ac.signal })) got.push(`${e.kind} ${e.name}`);
    })();
    reg.register('a', idle(node));
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await reading;
    expect(got).toEqual(['register a']);
  });

  it('its budgets must fit a frame, and an anti-entropy message half the registry class bytes', async () => {
    const budgets = { maxAeMessageBytes: MAX_AE_MESSAGE_BYTES, maxDeltaBatchBytes: MAX_DELTA_BATCH_BYTES };
    const transport = { frameBodyBytes: 4 * MIB, registryClassBytes: 8 * MIB };
    expect(() => checkRegistryFitsTransport(budgets, transport)).not.toThrow();
    const err = thrown(() =>
      checkRegistryFitsTransport(budgets, { ...transport, registryClassBytes: MIB }),
    ) as LimitConflictError;
    expect(isTroupeError(err, 'ERR_BAD_CONFIG')).toBe(true);
    expect(err.limits).toEqual(['registry maxAeMessageBytes', 'half the internode registry class bytes']);
    const frame = thrown(() =>
      checkRegistryFitsTransport({ ...budgets, maxDeltaBatchBytes: 4 * MIB }, transport),
    ) as LimitConflictError;
    expect(frame.limits).toEqual(['registry maxDeltaBatchBytes', 'internode MAX_FRAME_BODY_BYTES']);

    const member = await startMember('fit');
    toStop.push(member.node, member.net);
    const refused = thrown(() =>
      EventualRegistry.start({ node: member.node, internode: member.net, maxAeMessageBytes: 5 * MIB }),
    ) as LimitConflictError;
    expect(isTroupeError(refused, 'ERR_BAD_CONFIG')).toBe(true);
    expect(refused.limits).toEqual(['registry maxAeMessageBytes', 'internode MAX_FRAME_BODY_BYTES']);
    const reg = EventualRegistry.start({ node: member.node, internode: member.net });
    toStop.push(reg);
    expect(reg.size).toBe(0);
  });
});
