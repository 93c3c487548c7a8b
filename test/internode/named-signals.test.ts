// The wire form of the named monitor signals (opcodes 8-10): they round-trip, and a body that
// claims another node's watcher, or a DOWN for someone else's watcher, is refused.
import { describe, expect, it } from 'vitest';
import { signalFromWire, signalToWire, type RemoteSignal } from '../../internode/index.js';
import { Pid, decode, encode } from '../../runtime/index.js';

const onA = new Pid('a', 3, 1);
const onB = new Pid('b', 4, 1);
const wire = (s: RemoteSignal): unknown => decode(encode(signalToWire(s)));

describe('named monitor signals on the wire', () => {
  it('round-trip from the peer that owns the watcher', () => {
    const monitor: RemoteSignal = { op: 'monitor-named', watcher: onA, name: 'svc', ref: '#Ref<a.1.7>' };
    const demonitor: RemoteSignal = { op: 'demonitor-named', watcher: onA, name: 'svc', ref: '#Ref<a.1.7>' };
    expect(signalFromWire(wire(monitor), 'a', 'b')).toEqual(monitor);
    expect(signalFromWire(wire(demonitor), 'a', 'b')).toEqual(demonitor);
    const down: RemoteSignal = { op: 'down-named', watcher: onA, ref: '#Ref<a.1.7>', name: 'svc', reason: 'noproc' };
    expect(signalFromWire(wire(down), 'b', 'a')).toEqual(down);
  });

  it('refuse a spoofed watcher, a DOWN not for us, and bad shapes', () => {
    const monitor: RemoteSignal = { op: 'monitor-named', watcher: onB, name: 'svc', ref: '#Ref<b.1.1>' };
    expect(signalFromWire(wire(monitor), 'a', 'b')).toBe('spoofed-sender');
    const down: RemoteSignal = { op: 'down-named', watcher: onB, ref: '#Ref<b.1.1>', name: 'svc', reason: 'noproc' };
    expect(signalFromWire(wire(down), 'b', 'a')).toBe('not-for-us');
    expect(signalFromWire([8, onA, '', '#Ref<a.1.1>'], 'a', 'b')).toBe('shape');
    expect(signalFromWire([8, onA, 'svc', 5], 'a', 'b')).toBe('shape');
    expect(signalFromWire([10, onA, '#Ref<a.1.1>', 'svc'], 'b', 'a')).toBe('shape');
  });
});
