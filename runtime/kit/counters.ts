// Counters exported through OpenTelemetry, read only when a metrics reader collects (never on a
// hot path). Every name exists from the start, at zero: a counter that fires rarely still exists.
// Names follow one convention: `troupe.<subsystem>.<what>` (snake_case once exported); a reason
// is an attribute of one counter, never a counter of its own.
import type { Attributes, BatchObservableResult, Meter, ObservableCounter } from '@opentelemetry/api';

/** One set of values with its own attributes (e.g. one per pg scope, or one per drop reason). */
export interface CounterSample {
  readonly attributes: Attributes;
  readonly values: Readonly<Record<string, number>>;
}

export type CounterReading = Readonly<Record<string, number>> | readonly CounterSample[];

/**
 * Registers observable counters `${prefix}.${name}` for every name in `names`, observed with
 * `attributes` (plus each sample's own) from `read()` at collection time. Returns the function
 * that unregisters them (call it on stop).
 */
export function observeCounters(
  meter: Meter,
  prefix: string,
  attributes: Attributes,
  names: readonly string[],
  read: () => CounterReading,
): () => void {
  const instruments = new Map<string, ObservableCounter>();
  for (const name of names) instruments.set(name, meter.createObservableCounter(`${prefix}.${name}`));
  const observables = [...instruments.values()];
  const callback = (result: BatchObservableResult): void => {
    const reading = read();
    const samples: readonly CounterSample[] = Array.isArray(reading)
      ? (reading as readonly CounterSample[])
      : [{ attributes: {}, values: reading as Readonly<Record<string, number>> }];
    for (const sample of samples) {
      for (const [name, value] of Object.entries(sample.values)) {
        const instrument = instruments.get(name);
        if (instrument !== undefined) result.observe(instrument, value, { ...attributes, ...sample.attributes });
      }
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
