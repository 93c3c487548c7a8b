// The Raft host's OpenTelemetry instruments: counters and per-group gauges read only when a
// metrics reader collects, and two histograms recorded once per persist (a no-op without an SDK).
// Names follow the house convention `troupe.raft.<what>`; outcomes and roles are attributes.
import type { BatchObservableResult, Histogram, Meter } from '@opentelemetry/api';
import type { RaftStatus, Role } from '../index.js';

/** What the instruments read at collection time. */
export interface RaftMetricsSource {
  readonly node: string;
  counters(): Readonly<Record<string, number>>;
  groups(): Iterable<{ readonly id: string; status(): RaftStatus & { readonly tenantApplied: number } }>;
}

/** Per-persist instruments (recorded on the write path). */
export interface PersistInstruments {
  readonly duration: Histogram;
  readonly entries: Histogram;
}

const ROLES: readonly Role[] = ['follower', 'preCandidate', 'candidate', 'leader'];

/** Counters that are one counter with an `outcome` attribute. */
const PROPOSAL_OUTCOMES = {
  proposalsOk: 'ok',
  proposalsFailed: 'failed',
  proposalsIndeterminate: 'indeterminate',
  forwarded: 'forwarded',
} as const;

/** Registers the instruments; returns them and the function that unregisters (call on stop). */
export function observeRaftHost(meter: Meter, source: RaftMetricsSource): [PersistInstruments, () => void] {
  const attrs = { node: source.node };
  const counterNames = Object.keys(source.counters()).filter((n) => !(n in PROPOSAL_OUTCOMES));
  const counters = new Map(counterNames.map((n) => [n, meter.createObservableCounter(`troupe.raft.${n}`)]));
  const proposals = meter.createObservableCounter('troupe.raft.proposals', {
    description: 'Proposals made on this node, by outcome (ok, failed, indeterminate; forwarded to a leader)',
  });
  const role = meter.createObservableGauge('troupe.raft.role', { description: '1 for the role a group is in' });
  const term = meter.createObservableGauge('troupe.raft.term');
  const commit = meter.createObservableGauge('troupe.raft.commit');
  const applied = meter.createObservableGauge('troupe.raft.applied');
  const lag = meter.createObservableGauge('troupe.raft.lag', {
    description: 'Leader: how far the slowest member trails its last index; others: commit minus applied',
  });
  const all = [...counters.values(), proposals, role, term, commit, applied, lag];
  const cb = (r: BatchObservableResult): void => {
    const values = source.counters();
    for (const [name, instrument] of counters) r.observe(instrument, values[name] ?? 0, attrs);
    for (const [name, outcome] of Object.entries(PROPOSAL_OUTCOMES))
      r.observe(proposals, values[name] ?? 0, { ...attrs, outcome });
    for (const g of source.groups()) {
      const s = g.status();
      const at = { ...attrs, group: g.id };
      for (const x of ROLES) r.observe(role, s.role === x ? 1 : 0, { ...at, role: x });
      r.observe(term, s.term, at);
      r.observe(commit, s.commit, at);
      r.observe(applied, s.tenantApplied, at);
      const trailing = s.peers.reduce((most, p) => Math.max(most, s.lastIndex - p.match), 0);
      r.observe(lag, s.role === 'leader' ? trailing : Math.max(0, s.commit - s.tenantApplied), at);
    }
  };
  meter.addBatchObservableCallback(cb, all);
  const instruments: PersistInstruments = {
    duration: meter.createHistogram('troupe.raft.persist.duration', {
      unit: 'ms',
      description: 'One store write of a turn, from start until durable (fsync) or ordered (commit-only)',
    }),
    entries: meter.createHistogram('troupe.raft.persist.entries', { description: 'Entries per synced store write' }),
  };
  return [instruments, () => meter.removeBatchObservableCallback(cb, all)];
}
