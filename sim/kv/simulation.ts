// KV clients on the simulated cluster: the real Raft host with the KV store as its tenant, under
// the host harness's faults (loss, delay, partitions, crashes and power losses that lose what a
// disk had not made durable, restarts, snapshots). Clients on every node put, get (linearizable)
// and cas three keys; every call is recorded in the history format on the virtual clock, and at
// the end the history must be linearizable (sim/check) and every replica hold the same state.
import { encode } from '../../runtime/base.js';
import { KvError, KvTenant, WatchHub, type KvCommand, type KvResult } from '../../kv/index.js';
import { HistoryRecorder, checkOps, parseHistory } from '../check/index.js';
import { runHostSimulation, type RaftHostSimOptions, type SimWorkload } from '../raft/host-simulation.js';

export interface KvSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation: string | null;
  readonly stats: Record<string, number>;
  /** The recorded history (JSON lines), for replay with sim/check/main.ts. */
  readonly history: string;
}

const SPACE = 'sim';
const KEYS = ['x', 'y', 'z'];
/** Client calls in flight at once, across the cluster. */
const MAX_IN_FLIGHT = 12;

export interface KvSimOptions extends RaftHostSimOptions {
  /** DELIBERATELY BROKEN: reads served from the local replica without a read index. Tests only. */
  readonly unsafeStaleReads?: boolean;
}

export async function runKvSimulation(options: KvSimOptions): Promise<KvSimResult> {
  let history = '';
  const workload = kvWorkload((h) => (history = h), options.unsafeStaleReads === true);
  const r = await runHostSimulation(options, workload);
  return { ...r, history };
}

function kvWorkload(report: (history: string) => void, staleReads: boolean): SimWorkload<KvTenant> {
  let recorder: HistoryRecorder | null = null;
  const stats = { calls: 0, ok: 0, indeterminate: 0, failed: 0 };
  let inFlight = 0;
  let n = 0;
  let unknownVerdicts = 0;
  return {
    makeTenant: () => new KvTenant(new WatchHub()),
    async setup(ctx) {
      recorder = new HistoryRecorder({ now: () => ctx.clock.now() * 1_000_000 });
      // The space, defined once before the chaos (retried until a leader takes it).
      for (let done = false; !done;) {
        const node = ctx.random.pick([...ctx.nodes.values()]);
        let settled = false;
        node
          .group!.propose(encode({ type: 'space-define', space: SPACE } satisfies KvCommand), { timeout: 1_000 })
          .then(
            () => (done = settled = true),
            () => (settled = true),
          );
        while (!settled) await ctx.clock.advance(10);
      }
    },
    step(ctx) {
      const alive = [...ctx.nodes.values()].filter((x) => x.alive);
      if (alive.length === 0 || inFlight >= MAX_IN_FLIGHT || !ctx.random.chance(0.4)) return;
      const node = ctx.random.pick(alive);
      const incarnation = node.incarnation;
      const client = `${node.name}.${incarnation}`;
      const key = ctx.random.pick(KEYS);
      const kind = ctx.random.int(3);
      const value = `v${++n}`;
      const rec = recorder!;
      stats.calls++;
      inFlight++;
      const died = () => !node.alive || node.incarnation !== incarnation;
      const settle = (onError: (code: string) => void) => (error: { code?: string }) => {
        inFlight--;
        // The client lived on the node: a dead node's clients cannot know what happened.
        const code = died() ? 'ERR_RAFT_INDETERMINATE' : (error.code ?? 'error');
        onError(code);
      };
      const write = (cmd: KvCommand) =>
        node.group!.propose(encode(cmd), { timeout: 2_000 }).then((r) => {
          const result = r as KvResult;
          if (result.type === 'error') throw new KvError(result.code, result.message);
          return result;
        });
      if (kind === 0) {
        const op = rec.invoke(client, { op: 'put', key, value });
        write({ type: 'put', space: SPACE, key, value }).then(
          () => {
            inFlight--;
            stats.ok++;
            op.ok();
          },
          settle((code) => endWrite(op, code)),
        );
      } else if (kind === 1) {
        const op = rec.invoke(client, { op: 'get', key });
        node
          .group!.read((t) => t.machine.get(SPACE, key).kv, {
            timeout: 2_000,
            consistency: staleReads ? 'local' : 'linearizable',
          })
          .then(
            (r) => {
              inFlight--;
              stats.ok++;
              op.ok({ read: r.value === null ? null : String(r.value.value) });
            },
            settle((code) => {
              stats.failed++;
              op.fail(code); // a read changes nothing
            }),
          );
      } else {
        const expect = `v${n - 1 - ctx.random.int(4)}`;
        const op = rec.invoke(client, { op: 'cas', key, expect, value });
        write({ type: 'cas', space: SPACE, key, expected: { value: expect }, value }).then(
          (r) => {
            inFlight--;
            stats.ok++;
            op.ok({ ok: r.type === 'cas' && r.ok });
          },
          settle((code) => endWrite(op, code)),
        );
      }
      function endWrite(op: { timeout(): void; fail(e: string): void }, code: string): void {
        if (code === 'ERR_RAFT_INDETERMINATE') {
          stats.indeterminate++;
          op.timeout();
        } else {
          stats.failed++;
          op.fail(code); // the host promises it was never appended
        }
      }
    },
    check() {},
    converged(ctx) {
      if (inFlight > 0) return false;
      const applied = [...ctx.nodes.values()].map((x) => x.group!.status().tenantApplied);
      const commit = Math.max(...[...ctx.nodes.values()].map((x) => x.group!.status().commit));
      return applied.every((a) => a === commit);
    },
    finish(ctx) {
      const rec = recorder!;
      report(rec.text());
      const states = [...ctx.nodes.values()].map((x) =>
        JSON.stringify(KEYS.map((k) => x.tenant!.machine.get(SPACE, k).kv)),
      );
      if (new Set(states).size !== 1) ctx.fail(`replicas differ: ${states.join(' | ')}`);
      const parsed = parseHistory(rec.text());
      if (!parsed.ok) return ctx.fail(`the recorded history does not parse: ${JSON.stringify(parsed)}`);
      const verdict = checkOps(parsed.ops);
      if (verdict.verdict === 'unknown') unknownVerdicts++;
      if (verdict.verdict === 'violation')
        ctx.fail(`not linearizable: key ${verdict.key}, window ${JSON.stringify(verdict.window).slice(0, 600)}`);
    },
    stats: () => ({ ...stats, unknownVerdicts }),
  };
}
