// A plain ORSWOT (observed-remove set without tombstones) of values: an OrswotMap with a single
// key. Kept for users who need one set; the registry uses the sharded map of sets directly.
import type { Actor } from './dot.js';
import type { ElementOps } from './element.js';
import type { KeyChangeListener, KeyDelta, StateChunk } from './orswot-map.js';
import { OrswotMap } from './orswot-map.js';

const KEY = 'set';

export class Orswot<E> {
  private readonly map: OrswotMap<E>;

  constructor(ops: ElementOps<E>) {
    this.map = new OrswotMap(ops);
  }

  values(): E[] {
    return this.map.values(KEY);
  }

  add(value: E, actor: Actor): KeyDelta<E> {
    return this.map.add(KEY, value, actor);
  }

  remove(value: E): KeyDelta<E> | undefined {
    return this.map.remove(KEY, value);
  }

  applyDelta(delta: KeyDelta<E>, listener?: KeyChangeListener): boolean {
    return this.map.applyDelta(delta, listener);
  }

  /** The full state, to merge into another replica. */
  state(): StateChunk<E> {
    return this.map.cutChunk(null, Number.MAX_SAFE_INTEGER);
  }

  merge(state: StateChunk<E>): void {
    this.map.joinChunk(state);
  }

  digest(): [number, number] {
    return this.map.digest();
  }
}
