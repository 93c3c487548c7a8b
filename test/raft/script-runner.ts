// The raft engine's commands for scripted interaction tests (etcd datadriven style). The script
// format, parsing, rendering and REWRITE=1 live in test/datadriven.ts.
//
// Commands (node ids are short names; "all" means every node in id order):
//   add-nodes <n> [voters=a,b] [learners=c] [prevote=false] [checkquorum=false]
//             [max-append=<n>] [inflight=<n>] [trailing=<n>] [lease=true]
//   campaign <id>                      tick <id|all> [n]          tick-election <id>
//   tick-heartbeat <id>                propose <id> <cmd>...      read-index <id> <readId>
//   change-config <id> add-voter|add-learner|remove <target>
//   transfer-leadership <from> <to>    process-ready <id|all>     deliver-msgs [to]
//   drop-msgs [to]                     stabilize                  async-storage on|off
//   persist <id> [count]               partition <a,b> <c,d>...   cut <from> <to>
//   heal                               crash <id>                 restart <id>
//   compact <id>                       status <id|all>            log <id>
//   raw-step <id> <json message>
import { runScriptFile as runScript } from '../datadriven.js';
import type { Message, RaftEvent, RaftLimits, Ready } from '../../raft/index.js';
import { Harness, fmtEntry, fmtMessage } from './harness.js';

export { parseScript, renderScript, type ParsedScript } from '../datadriven.js';

function fmtEvent(ev: RaftEvent): string | null {
  switch (ev.type) {
    case 'role':
      return `becomes ${ev.role} term=${ev.term}`;
    case 'membership':
      return (
        `membership@${ev.index} voters=${ev.membership.voters.join(',')} ` +
        `learners=${ev.membership.learners.join(',')}`
      );
    case 'stepDown':
      return `steps down: ${ev.reason}`;
    case 'transfer':
      return `transfer to ${ev.to}: ${ev.outcome}`;
    case 'snapshotRestored':
      return `restores snapshot ${ev.term}/${ev.index}`;
    case 'compacted':
      return `compacted: snapshot=${ev.snapshotIndex} first=${ev.firstIndex}`;
    case 'progress':
      return `progress ${ev.peer} -> ${ev.state}`;
    case 'dropped':
      return `dropped ${ev.what}: ${ev.reason}`;
    case 'commit':
    case 'leader':
    case 'term':
      return null;
  }
}

export class ScriptRunner {
  private h = new Harness();
  private nextId = 1;

  run(command: string): string[] {
    const [cmd, ...args] = command.trim().split(/\s+/);
    const out: string[] = [];
    const ids = (s: string | undefined): string[] =>
      s === undefined || s === 'all' ? [...this.h.nodes.keys()] : s.split(',');
    const need = (s: string | undefined, what: string): string => {
      if (s === undefined) throw new Error(`${cmd}: missing ${what}`);
      return s;
    };
    switch (cmd) {
      case 'add-nodes': {
        const n = Number(need(args[0], 'count'));
        const kv = new Map(args.slice(1).map((a) => a.split('=') as [string, string]));
        const newIds = Array.from({ length: n }, () => String(this.nextId++));
        const voters = kv.has('voters') ? (kv.get('voters') as string).split(',').filter(Boolean) : newIds;
        const learners = kv.has('learners') ? (kv.get('learners') as string).split(',').filter(Boolean) : [];
        const limits: Partial<RaftLimits> = {};
        if (kv.has('max-append')) Object.assign(limits, { maxAppendEntries: Number(kv.get('max-append')) });
        if (kv.has('inflight')) Object.assign(limits, { maxInflightMessages: Number(kv.get('inflight')) });
        if (kv.has('trailing')) Object.assign(limits, { compactionTrailingEntries: Number(kv.get('trailing')) });
        this.h.add(newIds, voters, learners, {
          preVote: kv.get('prevote') !== 'false',
          checkQuorum: kv.get('checkquorum') !== 'false',
          readMode: kv.get('lease') === 'true' ? 'lease' : 'safe',
          limits,
        });
        out.push(`added ${newIds.join(',')} voters=${voters.join(',')} learners=${learners.join(',')}`);
        break;
      }
      case 'campaign':
        this.h.engine(need(args[0], 'id')).step({ type: 'campaign' });
        break;
      case 'tick':
        for (const id of ids(args[0])) this.h.tick(id, Number(args[1] ?? 1));
        break;
      case 'tick-election': {
        const id = need(args[0], 'id');
        this.h.tick(id, this.h.engine(id).limits.electionTicks * 2);
        break;
      }
      case 'tick-heartbeat': {
        const id = need(args[0], 'id');
        this.h.tick(id, this.h.engine(id).limits.heartbeatTicks);
        break;
      }
      case 'propose': {
        const r = this.h.propose(need(args[0], 'id'), ...args.slice(1));
        out.push(
          r.ok
            ? `proposed at ${r.term}/${r.index}`
            : `refused ${r.error.code}${r.error.leader ? ` leader=${r.error.leader}` : ''}`,
        );
        break;
      }
      case 'read-index': {
        const r = this.h.engine(need(args[0], 'id')).step({ type: 'readIndex', readId: need(args[1], 'read id') });
        out.push(r.ok ? 'requested' : `refused ${r.error.code}`);
        break;
      }
      case 'change-config': {
        const kind = need(args[1], 'change');
        const target = need(args[2], 'target');
        const type = kind === 'add-voter' ? 'addVoter' : kind === 'add-learner' ? 'addLearner' : 'removeNode';
        const r = this.h.engine(need(args[0], 'id')).step({ type: 'changeConfig', change: { type, id: target } });
        out.push(r.ok ? `appended at ${r.term}/${r.index}` : `refused ${r.error.code}`);
        break;
      }
      case 'transfer-leadership': {
        const r = this.h.engine(need(args[0], 'from')).step({ type: 'transferLeadership', to: need(args[1], 'to') });
        out.push(r.ok ? 'started' : `refused ${r.error.code}`);
        break;
      }
      case 'process-ready':
        for (const id of ids(args[0])) out.push(...this.processReady(id));
        break;
      case 'deliver-msgs':
        for (const m of this.h.deliver(args[0])) out.push(`deliver ${fmtMessage(m)}`);
        break;
      case 'drop-msgs':
        for (const m of this.h.drop(args[0])) out.push(`drop ${fmtMessage(m)}`);
        break;
      case 'stabilize':
        out.push(...this.stabilize());
        break;
      case 'async-storage':
        this.h.autoPersist = args[0] !== 'on';
        break;
      case 'persist': {
        const id = need(args[0], 'id');
        const last = this.h.persist(id, args[1] === undefined ? Infinity : Number(args[1]));
        out.push(last > 0 ? `${id} persisted up to write#${last}` : `${id} has nothing to persist`);
        break;
      }
      case 'partition': {
        this.h.heal();
        const groups = args.map((g) => g.split(','));
        for (const a of groups)
          for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.h.cuts.add(`${x}>${y}`);
        break;
      }
      case 'cut':
        this.h.cuts.add(`${need(args[0], 'from')}>${need(args[1], 'to')}`);
        break;
      case 'heal':
        this.h.heal();
        break;
      case 'crash': {
        const id = need(args[0], 'id');
        const lost = this.h.get(id).store.pending.length;
        this.h.crash(id);
        out.push(`${id} crashed, ${lost} unsynced write(s) lost`);
        break;
      }
      case 'restart': {
        const id = need(args[0], 'id');
        this.h.restart(id);
        const s = this.h.engine(id).status();
        out.push(`${id} restarted: term=${s.term} vote=${s.vote ?? '-'} commit=${s.commit} last=${s.lastIndex}`);
        break;
      }
      case 'compact': {
        const id = need(args[0], 'id');
        this.h.snapshot(id);
        const s = this.h.engine(id).status();
        out.push(`${id} snapshot at ${s.snapshotIndex}, log now ${s.firstIndex}..${s.lastIndex}`);
        out.push(...this.drainEvents(id));
        break;
      }
      case 'status':
        for (const id of ids(args[0])) out.push(...this.status(id));
        break;
      case 'log': {
        const e = this.h.engine(need(args[0], 'id'));
        const parts: string[] = [];
        for (let i = e.firstIndex; i <= e.lastIndex; i++)
          parts.push(fmtEntry(e.entryAt(i) as NonNullable<ReturnType<typeof e.entryAt>>));
        out.push(parts.length > 0 ? parts.join(', ') : '(empty)');
        break;
      }
      case 'raw-step': {
        const id = need(args[0], 'id');
        const m = JSON.parse(args.slice(1).join(' ')) as Message;
        const r = this.h.engine(id).step({ type: 'message', message: m });
        out.push(r.ok ? 'stepped' : `refused ${r.error.code}`);
        break;
      }
      default:
        throw new Error(`unknown command ${String(cmd)}`);
    }
    return out;
  }

  private describeReady(id: string, rd: Ready): string[] {
    const lines: string[] = [];
    for (const ev of rd.events) {
      const t = fmtEvent(ev);
      if (t !== null) lines.push(`  ${t}`);
    }
    const w = rd.write;
    if (w !== null) {
      const parts = [`write#${w.id}`];
      if (w.hardState) parts.push(`hs=${w.hardState.term}/${w.hardState.vote ?? '-'}/${w.hardState.commit}`);
      if (w.snapshot) parts.push(`snapshot=${w.snapshot.meta.term}/${w.snapshot.meta.index}`);
      if (w.entries.length) parts.push(`entries=[${w.entries.map(fmtEntry).join(', ')}]`);
      lines.push(`  ${parts.join(' ')}`);
    }
    for (const m of rd.messages) {
      const cut = this.h.cuts.has(`${m.from}>${m.to}`);
      lines.push(`  ${cut ? 'send (cut) ' : 'send '}${fmtMessage(m)}`);
    }
    if (rd.snapshot) lines.push(`  apply snapshot ${rd.snapshot.meta.term}/${rd.snapshot.meta.index}`);
    if (rd.entries.length) lines.push(`  apply [${rd.entries.map(fmtEntry).join(', ')}]`);
    for (const r of rd.readStates) lines.push(`  read ${String(r.readId)} ready at ${r.index}`);
    for (const r of rd.readsDropped) lines.push(`  read ${String(r)} dropped`);
    return lines.length > 0 ? [`> ${id} ready`, ...lines] : [];
  }

  private processReady(id: string): string[] {
    const rd = this.h.process(id);
    return rd === null ? [] : this.describeReady(id, rd);
  }

  private drainEvents(id: string): string[] {
    const out: string[] = [];
    while (this.h.engine(id).hasReady()) out.push(...this.processReady(id));
    return out;
  }

  private stabilize(): string[] {
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const id of this.h.nodes.keys()) {
        if (!this.h.get(id).up) continue;
        const lines = this.processReady(id);
        if (lines.length > 0) {
          moved = true;
          out.push(...lines);
        }
      }
      if (this.h.queue.length > 0) {
        this.h.deliver();
        moved = true;
      }
      if (!moved) return out;
    }
    throw new Error('stabilize did not settle');
  }

  private status(id: string): string[] {
    const n = this.h.get(id);
    if (!n.up) return [`${id}: down`];
    const s = n.node.status();
    const lines = [
      `${id}: ${s.role} term=${s.term} leader=${s.leader ?? '-'} commit=${s.commit} applied=${n.appliedIndex} ` +
        `log=${s.firstIndex}..${s.lastIndex} durable=${s.durableIndex} ` +
        `voters=${s.membership.voters.join(',')} learners=${s.membership.learners.join(',')}` +
        `${s.transferee ? ` transferee=${s.transferee}` : ''}`,
    ];
    for (const p of s.peers) {
      lines.push(
        `  ${p.id}: ${p.state} match=${p.match} next=${p.next} inflight=${p.inflightMessages}` +
          `${p.voter ? '' : ' learner'}`,
      );
    }
    lines.push(`  applied: ${n.applied.length > 0 ? n.applied.join(' ') : '-'}`);
    return lines;
  }
}

/** Run a script file; returns [expected text, actual text]. Rewrites the file when asked. */
export function runScriptFile(path: string, rewrite: boolean): { expected: string; actual: string } {
  return runScript(path, new ScriptRunner(), rewrite);
}
