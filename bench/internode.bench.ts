// Internode benchmarks between two node processes on loopback: this process (node 'bench-main')
// and a child (bench/internode-peer.ts, node 'bench-peer'). Measured in the same run:
//   - one-way throughput, 100 B and 4 KiB payloads (a Buffer sent from a process here to a
//     process there, counted at the receiver), the sender respecting back-pressure: a plain
//     ctx.send, and on ERR_BACKPRESSURE an awaitable send that waits for room;
//   - ping-pong round trips, one message at a time, p50/p99;
//   - the baseline: raw `ws` with the same payloads, one WebSocket message per payload, a raw
//     server in the same child and a raw client here, the client waiting while more than the same
//     high-water mark is unflushed (send callbacks + bufferedAmount, as the internode write loop);
//   - and for ping-pong, Erlang distribution between two Erlang nodes on loopback
//     (bench/erlang/dist_pingpong.erl), the same payloads and rounds, when `erl` is installed.
// Runs alternate internode and raw so drift of the machine hits both; the median run is quoted.
// Beside wall-clock rates, CPU time per message on each side (steadier on a shared machine).
// MB/s counts payload bytes only (the same for both: envelopes and frame headers are overhead).
// A peer seen down mid-measurement voids that measurement (it runs once more); events are reported.
// To profile the peer too, pass it node flags: BENCH_PEER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p";
// the measuring steps are exported so a small driver can run one of them alone under a profiler.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket, type RawData } from 'ws';
import type { BenchModule } from './run.js';
import type { PeerReady } from './internode-peer.js';
import { Node, Pid, isTroupeError } from '../runtime/index.js';
import { Internode, limits, type NodeEvent } from '../internode/index.js';
import { erlangPingPong, type ErlangPingPong } from './internode-erlang.js';

const here = dirname(fileURLToPath(import.meta.url));
const now = (): number => performance.now();
const HIGH_WATER_MARK = limits.HIGH_WATER_MARK_BYTES;
const PEER_START_TIMEOUT_MS = 30_000;
/** No wait in a step lasts longer than this: a lost reply fails the run instead of hanging it. */
const REPLY_TIMEOUT_MS = 60_000;
/** One ping-pong round trip never takes this long unless a message was lost. */
const ROUND_TRIP_TIMEOUT_MS = 5_000;
/** BENCH_VERBOSE=1 prints each step's figures to stderr as it finishes. */
const progress =
  process.env.BENCH_VERBOSE === '1'
    ? (step: string, v: unknown): void => void process.stderr.write(`${step} ${JSON.stringify(v)}\n`)
    : (): void => {};

interface Throughput {
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
  /** CPU time per message in the sending process and in the receiving one (user + system). */
  readonly senderCpuUsPerMsg: number;
  readonly receiverCpuUsPerMsg: number;
}
interface SinkReply {
  readonly count: number;
  readonly bytes: number;
  /** The peer process's CPU time so far, µs. */
  readonly cpuUs: number;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
interface Latency {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

// ------------------------------------------------------------------ the peer process

interface Peer {
  readonly child: ChildProcess;
  readonly ready: PeerReady;
  stop(): Promise<void>;
}

export async function startPeer(secret: string): Promise<Peer> {
  const extra = (process.env.BENCH_PEER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', join(here, 'internode-peer.ts'), secret], {
    cwd: join(here, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killNow); // whatever happens here, the child does not outlive us
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin?.end();
      child.kill('SIGTERM');
      const timer = setTimeout(killNow, 3_000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killNow);
  };
  try {
    const ready = await new Promise<PeerReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('internode peer did not start in time')), PEER_START_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        lines.close();
        try {
          resolve(JSON.parse(line) as PeerReady);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`internode peer exited early (code ${code}, signal ${signal})`));
      });
    });
    child.stdout?.resume(); // nothing more is expected; never let the pipe fill
    return { child, ready, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ------------------------------------------------------------------ internode

interface Cluster {
  readonly node: Node;
  readonly net: Internode;
  readonly sink: Pid;
  readonly echo: Pid;
  /** Node events seen after the peer came up (a down mid-run voids the figures). */
  readonly events: NodeEvent[];
}

export async function joinPeer(ready: PeerReady, secret: string): Promise<Cluster> {
  const node = await Node.start({ name: 'bench-main', incarnation: 1 });
  const net = await Internode.start({
    node,
    cluster: 'bench',
    secret,
    listen: '127.0.0.1:0',
    seeds: [ready.internode],
  });
  await peerUp(net);
  const events: NodeEvent[] = [];
  net.subscribe((e) => void events.push(e));
  return { node, net, sink: Pid.parse(ready.sink), echo: Pid.parse(ready.echo), events };
}

/** Resolves once the peer node is up (at once if it is), or rejects after a bound. */
function peerUp(net: Internode): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench peer did not come up')), PEER_START_TIMEOUT_MS);
    const check = (): void => {
      if (net.upNodes().includes('bench-peer')) {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    };
    const unsubscribe = net.subscribe(check);
    check();
  });
}

/**
 * Runs one internode measurement once the peer is up. A node event during it (the peer seen
 * down, then up: messages sent meanwhile are gone, as in Erlang) voids it: it runs once more.
 */
async function measured<T>(c: Cluster, step: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await peerUp(c.net);
    try {
      return await run();
    } catch (err) {
      if (attempt >= 2 || !(err instanceof NodeEventsError)) throw err;
      progress(`${step}: voided by node events, running it again`, err.events);
    }
  }
}

class NodeEventsError extends Error {
  constructor(
    message: string,
    readonly events: NodeEvent[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Runs `body` as a process on the bench node and resolves with its result (or its error). A
 * node event in the meantime (the peer seen down, then up again) voids the figures: it fails too.
 */
async function inProcess<T>(
  c: Cluster,
  body: (ctx: Parameters<Parameters<Node['spawn']>[0]>[0]) => Promise<T>,
): Promise<T> {
  const seen = c.events.length;
  const result = await new Promise<T>((resolve, reject) => {
    c.node.spawn(async (ctx) => {
      try {
        resolve(await body(ctx));
      } catch (err) {
        const events = c.events.slice(seen);
        const why = err instanceof Error ? err.message : String(err);
        const message = `${why}${events.length > 0 ? `; node events meanwhile: ${JSON.stringify(events)}` : ''}`;
        reject(
          events.length > 0 ? new NodeEventsError(message, events, { cause: err }) : new Error(message, { cause: err }),
        );
      }
    });
  });
  if (c.events.length > seen)
    throw new NodeEventsError(
      `node events during a measurement: ${JSON.stringify(c.events.slice(seen))}`,
      c.events.slice(seen),
    );
  return result;
}

export async function internodeOneWay(
  c: Cluster,
  payload: Buffer,
  n: number,
): Promise<Throughput & { framesPerWsMessage: number; waitedForRoom: number }> {
  const before = c.net.stats();
  let waited = 0;
  const { seconds, count, bytes, senderCpu, receiverCpu } = await inProcess(c, async (ctx) => {
    // An empty round first: the sink resets and tells its CPU time so far.
    await c.net.sendAwait(ctx.self, c.sink, { type: 'end', from: ctx.self });
    const start = (await ctx.receive({ timeout: REPLY_TIMEOUT_MS })) as SinkReply;
    const cpu0 = cpuUs();
    const t0 = now();
    for (let i = 0; i < n; i++) {
      try {
        ctx.send(c.sink, payload);
      } catch (err) {
        if (!isTroupeError(err) || err.code !== 'ERR_BACKPRESSURE') throw err;
        waited++;
        await c.net.sendAwait(ctx.self, c.sink, payload);
      }
    }
    await c.net.sendAwait(ctx.self, c.sink, { type: 'end', from: ctx.self });
    const r = (await ctx.receive({ timeout: REPLY_TIMEOUT_MS })) as SinkReply;
    return {
      seconds: (now() - t0) / 1000,
      count: r.count,
      bytes: r.bytes,
      senderCpu: cpuUs() - cpu0,
      receiverCpu: r.cpuUs - start.cpuUs,
    };
  });
  if (count !== n || bytes !== n * payload.length)
    throw new Error(`internode one-way: the sink counted ${count} of ${n}`);
  const after = c.net.stats();
  const messages = after.messagesSent - before.messagesSent;
  const frames = after.framesSent.user - before.framesSent.user;
  return {
    msgsPerSec: n / seconds,
    mbPerSec: bytes / seconds / 1e6,
    senderCpuUsPerMsg: senderCpu / n,
    receiverCpuUsPerMsg: receiverCpu / n,
    framesPerWsMessage: Math.round((frames / Math.max(1, messages)) * 10) / 10,
    waitedForRoom: waited,
  };
}

export async function internodePingPong(c: Cluster, payload: Buffer, rounds: number): Promise<Latency> {
  const samples = await inProcess(c, async (ctx) => {
    const lat = new Float64Array(rounds);
    for (let i = 0; i < rounds; i++) {
      const t = now();
      ctx.send(c.echo, [ctx.self, payload]);
      const back = await ctx.receive({ timeout: ROUND_TRIP_TIMEOUT_MS });
      lat[i] = now() - t;
      if (!(back instanceof Uint8Array) || back.length !== payload.length)
        throw new Error('internode ping-pong: wrong reply');
    }
    return lat;
  });
  return latency(samples);
}

// ------------------------------------------------------------------ raw ws baseline

class RawClient {
  readonly ws: WebSocket;
  #waiting: ((data: RawData) => void) | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const w = this.#waiting;
      this.#waiting = null;
      w?.(data);
    });
    ws.on('error', () => {});
  }

  static open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: limits.MAX_WS_MESSAGE_BYTES });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
    });
  }

  /** The next message (one reader at a time). */
  next(): Promise<RawData> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw ws: no reply in time')), REPLY_TIMEOUT_MS);
      this.#waiting = (data) => {
        clearTimeout(timer);
        resolve(data);
      };
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

export async function rawOneWay(url: string, payload: Buffer, n: number): Promise<Throughput> {
  const client = await RawClient.open(`${url}/sink`);
  const ws = client.ws;
  try {
    let inFlight = 0;
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    const flushed = (err?: Error | null): void => {
      if (err != null) failure ??= err; // ws passes null on success
      inFlight -= payload.length;
      if (wake !== null && inFlight + ws.bufferedAmount < HIGH_WATER_MARK) {
        const w = wake;
        wake = null;
        w();
      }
    };
    const first = client.next();
    ws.send('end'); // an empty round first: the sink resets and tells its CPU time so far
    const start = JSON.parse((await first).toString()) as SinkReply;
    const cpu0 = cpuUs();
    const t0 = now();
    for (let i = 0; i < n; i++) {
      while (inFlight + ws.bufferedAmount >= HIGH_WATER_MARK) await new Promise<void>((r) => (wake = r));
      inFlight += payload.length;
      ws.send(payload, { binary: true }, flushed);
    }
    const reply = client.next();
    ws.send('end');
    const { count, bytes, cpuUs: peerCpu } = JSON.parse((await reply).toString()) as SinkReply;
    const seconds = (now() - t0) / 1000;
    const senderCpu = cpuUs() - cpu0;
    if (failure !== null) throw failure;
    if (count !== n || bytes !== n * payload.length) throw new Error(`raw one-way: the sink counted ${count} of ${n}`);
    return {
      msgsPerSec: n / seconds,
      mbPerSec: bytes / seconds / 1e6,
      senderCpuUsPerMsg: senderCpu / n,
      receiverCpuUsPerMsg: (peerCpu - start.cpuUs) / n,
    };
  } finally {
    client.close();
  }
}

export async function rawPingPong(url: string, payload: Buffer, rounds: number): Promise<Latency> {
  const client = await RawClient.open(`${url}/echo`);
  try {
    const lat = new Float64Array(rounds);
    for (let i = 0; i < rounds; i++) {
      const t = now();
      const reply = client.next();
      client.ws.send(payload, { binary: true });
      const back = await reply;
      lat[i] = now() - t;
      if (!Buffer.isBuffer(back) || back.length !== payload.length) throw new Error('raw ping-pong: wrong reply');
    }
    return latency(lat);
  } finally {
    client.close();
  }
}

// ------------------------------------------------------------------ figures

function latency(samples: Float64Array): Latency {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const us = (ms: number): number => Math.round(ms * 10_000) / 10; // 0.1 µs
  return { p50Us: us(at(0.5)), p99Us: us(at(0.99)), meanUs: us(mean) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = (ours: number, base: number): number => Math.round((ours / base) * 1000) / 1000;
const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;

function summarize(runs: Throughput[]): Throughput & { runs: number[] } {
  const byRate = [...runs].sort((a, b) => a.msgsPerSec - b.msgsPerSec);
  const mid = byRate[Math.floor(byRate.length / 2)]!;
  return {
    msgsPerSec: round(mid.msgsPerSec),
    mbPerSec: round(mid.mbPerSec, 1),
    senderCpuUsPerMsg: round(median(runs.map((r) => r.senderCpuUsPerMsg)), 2),
    receiverCpuUsPerMsg: round(median(runs.map((r) => r.receiverCpuUsPerMsg)), 2),
    runs: runs.map((r) => round(r.msgsPerSec)),
  };
}

function summarizeLatency(runs: Latency[]): Latency {
  return {
    p50Us: median(runs.map((r) => r.p50Us)),
    p99Us: median(runs.map((r) => r.p99Us)),
    meanUs: median(runs.map((r) => r.meanUs)),
  };
}

const bench: BenchModule = async ({ quick }) => {
  const reps = quick ? 1 : 3;
  const counts = {
    small: quick ? 50_000 : 300_000,
    large: quick ? 10_000 : 60_000,
    rounds: quick ? 2_000 : 10_000,
  };
  const small = randomBytes(100);
  const large = randomBytes(4096);
  const secret = randomBytes(24).toString('hex');

  const loadBefore = loadavg()[0]!;
  const peer = await startPeer(secret);
  let cluster: Cluster | undefined;
  try {
    cluster = await joinPeer(peer.ready, secret);
    const c = cluster;
    const url = peer.ready.raw;

    // Warm both paths up (JIT, socket buffers) before measuring.
    await measured(c, 'warm-up', () => internodeOneWay(c, small, 20_000));
    await rawOneWay(url, small, 20_000);
    await measured(c, 'warm-up', () => internodeOneWay(c, large, 2_000));
    await rawOneWay(url, large, 2_000);
    await measured(c, 'warm-up', () => internodePingPong(c, small, 1_000));
    await rawPingPong(url, small, 1_000);
    progress('warmed up', true);

    const inSmall: Throughput[] = [];
    const rawSmall: Throughput[] = [];
    const inLarge: Throughput[] = [];
    const rawLarge: Throughput[] = [];
    const inPingSmall: Latency[] = [];
    const rawPingSmall: Latency[] = [];
    const inPingLarge: Latency[] = [];
    const rawPingLarge: Latency[] = [];
    const erlPingSmall: Latency[] = [];
    const erlPingLarge: Latency[] = [];
    let erlang: { otp: string } | { skipped: string } = { skipped: 'not run' };
    let framesPerWsMessage100B = 0;
    let framesPerWsMessage4KiB = 0;
    let waitedForRoom = 0;
    for (let r = 0; r < reps; r++) {
      const a = await measured(c, 'internode one-way 100 B', () => internodeOneWay(c, small, counts.small));
      progress('internode one-way 100 B', a);
      inSmall.push(a);
      framesPerWsMessage100B = a.framesPerWsMessage;
      waitedForRoom += a.waitedForRoom;
      rawSmall.push(await rawOneWay(url, small, counts.small));
      progress('raw one-way 100 B', rawSmall.at(-1));
      const b = await measured(c, 'internode one-way 4 KiB', () => internodeOneWay(c, large, counts.large));
      inLarge.push(b);
      progress('internode one-way 4 KiB', b);
      framesPerWsMessage4KiB = b.framesPerWsMessage;
      waitedForRoom += b.waitedForRoom;
      rawLarge.push(await rawOneWay(url, large, counts.large));
      progress('raw one-way 4 KiB', rawLarge.at(-1));
      inPingSmall.push(
        await measured(c, 'internode ping-pong 100 B', () => internodePingPong(c, small, counts.rounds)),
      );
      rawPingSmall.push(await rawPingPong(url, small, counts.rounds));
      inPingLarge.push(
        await measured(c, 'internode ping-pong 4 KiB', () => internodePingPong(c, large, counts.rounds)),
      );
      rawPingLarge.push(await rawPingPong(url, large, counts.rounds));
      if (!('skipped' in erlang) || erlang.skipped === 'not run') {
        const e = await erlangPingPong([small.length, large.length], counts.rounds, counts.rounds / 5);
        if ('skipped' in e) erlang = e;
        else {
          erlang = { otp: e[0]!.otp };
          const bySize = (n: number): ErlangPingPong => e.find((x) => x.bytes === n)!;
          erlPingSmall.push(bySize(small.length));
          erlPingLarge.push(bySize(large.length));
          progress('erlang ping-pong (100 B, 4 KiB)', e);
        }
      }
      progress('ping-pong (internode 100 B, raw 100 B, internode 4 KiB, raw 4 KiB)', [
        inPingSmall.at(-1),
        rawPingSmall.at(-1),
        inPingLarge.at(-1),
        rawPingLarge.at(-1),
      ]);
    }
    const stats = c.net.stats();

    const oneWay100 = { internode: summarize(inSmall), raw: summarize(rawSmall) };
    const oneWay4K = { internode: summarize(inLarge), raw: summarize(rawLarge) };
    const withErlang = (runs: Latency[]): { erlang: Latency | { skipped: string } } => ({
      erlang: runs.length > 0 ? summarizeLatency(runs) : { skipped: 'skipped' in erlang ? erlang.skipped : '?' },
    });
    const ping100 = {
      internode: summarizeLatency(inPingSmall),
      raw: summarizeLatency(rawPingSmall),
      ...withErlang(erlPingSmall),
    };
    const ping4K = {
      internode: summarizeLatency(inPingLarge),
      raw: summarizeLatency(rawPingLarge),
      ...withErlang(erlPingLarge),
    };
    const toErlang = (
      ours: number,
      pick: (l: Latency) => number,
      base: Latency | { skipped: string },
    ): number | null => ('skipped' in base ? null : ratio(ours, pick(base)));
    // The machine drifts between runs (other work shares it): each repetition's ratio is taken
    // between figures measured minutes apart at most, and the median of those ratios is quoted.
    const paired = (ours: Latency[], base: Latency[], pick: (l: Latency) => number): number[] =>
      base.map((b, i) => ratio(pick(ours[i]!), pick(b)));
    const perRun = {
      pingPongP99_100BToRaw: paired(inPingSmall, rawPingSmall, (l) => l.p99Us),
      pingPongP50_100BToRaw: paired(inPingSmall, rawPingSmall, (l) => l.p50Us),
      pingPongP50_100BToErlang: paired(inPingSmall, erlPingSmall, (l) => l.p50Us),
      pingPongP99_100BToErlang: paired(inPingSmall, erlPingSmall, (l) => l.p99Us),
    };
    const p99ToRaw = median(perRun.pingPongP99_100BToRaw);
    const p50ToErlang = erlPingSmall.length > 0 ? median(perRun.pingPongP50_100BToErlang) : null;
    return {
      layout: 'two processes on 127.0.0.1: sender/pinger here, sink/echo in bench/internode-peer.ts',
      oneWay100B: { ...oneWay100, messages: counts.small },
      oneWay4KiB: { ...oneWay4K, messages: counts.large },
      pingPong100B: { ...ping100, rounds: counts.rounds },
      pingPong4KiB: { ...ping4K, rounds: counts.rounds },
      ratios: {
        oneWay100BToRaw: ratio(oneWay100.internode.msgsPerSec, oneWay100.raw.msgsPerSec),
        oneWay4KiBToRaw: ratio(oneWay4K.internode.msgsPerSec, oneWay4K.raw.msgsPerSec),
        pingPongP99_100BToRaw: p99ToRaw,
        pingPongP50_100BToRaw: ratio(ping100.internode.p50Us, ping100.raw.p50Us),
        pingPongP99_4KiBToRaw: ratio(ping4K.internode.p99Us, ping4K.raw.p99Us),
        pingPongP50_100BToErlang: p50ToErlang,
        perRun,
        pingPongP99_100BToErlang: toErlang(ping100.internode.p99Us, (l) => l.p99Us, ping100.erlang),
        pingPongP50_4KiBToErlang: toErlang(ping4K.internode.p50Us, (l) => l.p50Us, ping4K.erlang),
        // CPU per message is steadier than wall time on a busy machine.
        senderCpuPerMsg100BToRaw: ratio(oneWay100.internode.senderCpuUsPerMsg, oneWay100.raw.senderCpuUsPerMsg),
        receiverCpuPerMsg100BToRaw: ratio(oneWay100.internode.receiverCpuUsPerMsg, oneWay100.raw.receiverCpuUsPerMsg),
      },
      aims: {
        oneWay100BToRaw: '>= 1.5',
        pingPongP99_100BToRaw: '<= 1.5',
        pingPongP50_100BToErlang: '<= 1.0',
        met: {
          pingPongP99_100BToRaw: p99ToRaw <= 1.5,
          pingPongP50_100BToErlang: p50ToErlang === null ? 'erlang skipped' : p50ToErlang <= 1.0,
        },
      },
      erlang,
      internode: {
        framesPerWsMessage100B,
        framesPerWsMessage4KiB,
        sendsThatWaitedForRoom: waitedForRoom,
        userFramesDropped: stats.queues.dropped.user,
        // Should be empty: a down of the peer mid-run (e.g. the failure detector on a loaded machine).
        nodeEventsDuringRun: c.events.slice(0, 20),
        nodeDowns: stats.nodeDowns,
        malformed: stats.malformed,
      },
      repetitions: reps,
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2), cpus: availableParallelism() },
      highWaterMarkBytes: HIGH_WATER_MARK,
    };
  } finally {
    if (cluster !== undefined) {
      await cluster.net.stop();
      await cluster.node.stop();
    }
    await peer.stop();
  }
};

export default bench;
