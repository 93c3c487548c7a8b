// The commands of the failure detector's scripted scenarios (test/internode/testdata/*.txt),
// over its public API: every input carries the host's `now` (at=MS), and each prints the events
// it returned.
//
//   detector [heartbeat=MS] [suspect=MS] [down=MS]
//   connect|heartbeat|disconnect <node> <incarnation> at=MS
//   loop-delay <ms> at=MS           tick at=MS           status <node>        next-deadline
import { FailureDetector, type FailureDetectorEvent } from '../../internode/index.js';
import type { Command, CommandTable } from '../datadriven.js';

export interface DetectorScriptState {
  detector: FailureDetector | undefined;
}

export const newDetectorScriptState = (): DetectorScriptState => ({ detector: undefined });

function detectorOf(s: DetectorScriptState): FailureDetector {
  if (s.detector === undefined) throw new Error('no detector yet');
  return s.detector;
}

function at(cmd: Command): number {
  const now = cmd.num('at');
  if (now === undefined) throw new Error(`${cmd.name}: missing at=MS`);
  return now;
}

function show(events: readonly FailureDetectorEvent[]): string[] {
  return events.map((e) => {
    const who = `${e.node}/${e.incarnation} at=${e.at}`;
    if (e.type === 'suspect') return `suspect ${who} silent=${e.silentMs}`;
    if (e.type === 'down') return `down ${who} ${e.reason}`;
    return `${e.type} ${who}`;
  });
}

const incarnation = (cmd: Command): number => Number(cmd.arg(1, 'incarnation'));

export const detectorCommands: CommandTable<DetectorScriptState> = {
  detector(s, cmd) {
    s.detector = new FailureDetector({
      ...(cmd.num('heartbeat') !== undefined ? { heartbeatIntervalMs: cmd.num('heartbeat') } : {}),
      ...(cmd.num('suspect') !== undefined ? { suspectAfterMs: cmd.num('suspect') } : {}),
      ...(cmd.num('down') !== undefined ? { downAfterMs: cmd.num('down') } : {}),
    });
    const c = s.detector.config;
    return [`heartbeat=${c.heartbeatIntervalMs} suspect=${c.suspectAfterMs} down=${c.downAfterMs}`];
  },
  connect: (s, cmd) => show(detectorOf(s).peerConnected(cmd.arg(0, 'node'), incarnation(cmd), at(cmd))),
  heartbeat: (s, cmd) => show(detectorOf(s).heartbeatSeen(cmd.arg(0, 'node'), incarnation(cmd), at(cmd))),
  disconnect: (s, cmd) => show(detectorOf(s).peerDisconnected(cmd.arg(0, 'node'), incarnation(cmd), at(cmd))),
  'loop-delay': (s, cmd) => show(detectorOf(s).eventLoopDelay(Number(cmd.arg(0, 'ms')), at(cmd))),
  tick: (s, cmd) => show(detectorOf(s).tick(at(cmd))),
  status(s, cmd) {
    const v = detectorOf(s).status(cmd.arg(0, 'node'));
    if (v === undefined) return ['(unknown)'];
    return [
      `${v.node}/${v.incarnation} ${v.status} connections=${v.connections} heard=${v.lastHeardAt} since=${v.since}`,
    ];
  },
  'next-deadline': (s) => [String(detectorOf(s).nextDeadline() ?? 'none')],
};
