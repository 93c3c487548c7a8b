// Commands of the KV state machine's datadriven scripts (test/datadriven.ts). Each mutating
// command is applied at the next log index and prints its result, then one line per watch event.
//
//   define <space> [maxKeys=N ...]          put <space> <key> <value> [lease=ID] [prev=REV]
//   get <space> <key> [rev=R]               scan <space> <prefix> [after=K] [limit=N] [rev=R]
//   delete <space> <key>                    delete-prefix <space> <prefix>
//   cas <space> <key> <new> (value=V | rev=R | absent)
//   txn <space> [if=k:target:op:x,...] [then=put:k:v|delete:k|prefix:p|get:k,...] [else=...]
//   grant <space> ttl=MS now=T              keepalive <space> <id> now=T     revoke <space> <id>
//   expire now=T                            leader-changed now=T election=MS
//   compact <space> <rev>                   info <space>      lease <space> <id>    due now=T
//   snapshot-roundtrip                      (replaces the machine with one restored from its snapshot)
import {
  KvError,
  KvStateMachine,
  type KeyValue,
  type KvCommand,
  type KvResult,
  type TxnCompare,
  type TxnOp,
} from '../../kv/index.js';
import type { Command, CommandTable } from '../datadriven.js';

export interface KvScriptState {
  machine: KvStateMachine;
  index: number;
}

export const newKvScriptState = (): KvScriptState => ({ machine: new KvStateMachine(), index: 0 });

function fmt(kv: KeyValue | null): string {
  if (kv === null) return '<none>';
  const value = typeof kv.value === 'string' ? kv.value : `0x${Buffer.from(kv.value).toString('hex')}`;
  const lease = kv.lease !== 0 ? ` lease=${kv.lease}` : '';
  return `${kv.key}=${value} create=${kv.createRevision} mod=${kv.modRevision} ver=${kv.version}${lease}`;
}

function fmtResult(r: KvResult): string {
  switch (r.type) {
    case 'put':
      return r.ok
        ? `put ok rev=${r.revision} prev=${fmt(r.prev)}`
        : `put refused rev=${r.revision} current=${fmt(r.current)}`;
    case 'cas':
      return r.ok ? `cas ok rev=${r.revision}` : `cas refused rev=${r.revision} current=${fmt(r.current)}`;
    case 'delete':
      return `deleted ${r.deleted} rev=${r.revision}`;
    case 'txn':
      return [
        `txn ${r.succeeded ? 'success' : 'failure'} rev=${r.revision}`,
        ...r.results.map((x) =>
          x.op === 'put'
            ? `  put prev=${fmt(x.prev)}`
            : x.op === 'delete'
              ? `  deleted ${x.deleted}`
              : `  get ${fmt(x.kv)}`,
        ),
      ].join('\n');
    case 'space-defined':
      return `space ${r.space} ${JSON.stringify(r.limits)}`;
    case 'lease-granted':
      return `lease ${r.id} ttl=${r.ttlMs} deadline=${r.deadline}`;
    case 'lease-kept':
      return `lease ${r.id} kept deadline=${r.deadline}`;
    case 'lease-revoked':
      return `lease ${r.id} revoked deleted=${r.deleted} rev=${r.revision}`;
    case 'leases-expired':
      return `expired [${r.expired.join(',')}]${r.more ? ' more' : ''}`;
    case 'leases-extended':
      return `extended ${r.leases}`;
    case 'compacted':
      return `compacted ${r.space} to ${r.revision}`;
    case 'error':
      return `error ${r.code}: ${r.message}`;
  }
}

function apply(state: KvScriptState, command: KvCommand): string[] {
  const { result, events } = state.machine.apply(command, ++state.index);
  return [
    ...fmtResult(result).split('\n'),
    ...events.map((e) => `  event ${e.space} rev=${e.revision} ${e.type} ${e.type === 'put' ? fmt(e.kv) : e.key}`),
  ];
}

function read(fn: () => string[]): string[] {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KvError) {
      const at =
        err.compactRevision !== undefined ? ` compact=${err.compactRevision} current=${err.currentRevision}` : '';
      return [`error ${err.code}: ${err.message}${at}`];
    }
    throw err;
  }
}

const opt = (c: Command, key: string): number | undefined => c.num(key);

function compares(spec: string | undefined): TxnCompare[] {
  if (spec === undefined || spec === '') return [];
  return spec.split(',').map((part) => {
    const [key, target, op, against] = part.split(':') as [string, TxnCompare['target'], TxnCompare['op'], string];
    return { key, target, op, against: target === 'value' ? against : Number(against) };
  });
}

function txnOps(spec: string | undefined): TxnOp[] {
  if (spec === undefined || spec === '') return [];
  return spec.split(',').map((part): TxnOp => {
    const [op, key, value] = part.split(':') as [string, string, string | undefined];
    if (op === 'put') return { op: 'put', key, value: value ?? '' };
    if (op === 'delete') return { op: 'delete', key };
    if (op === 'prefix') return { op: 'delete', prefix: key };
    return { op: 'get', key };
  });
}

export const kvCommands: CommandTable<KvScriptState> = {
  define: (s, c) => {
    const limits: Record<string, number> = {};
    for (const [k, v] of c.kv) limits[k] = Number(v);
    return apply(s, { type: 'space-define', space: c.arg(0, 'space'), limits });
  },
  put: (s, c) =>
    apply(s, {
      type: 'put',
      space: c.arg(0, 'space'),
      key: c.arg(1, 'key'),
      value: c.arg(2, 'value'),
      ...(opt(c, 'lease') !== undefined && { lease: opt(c, 'lease') }),
      ...(opt(c, 'prev') !== undefined && { prevRevision: opt(c, 'prev') }),
    }),
  get: (s, c) =>
    read(() => {
      const r = s.machine.get(c.arg(0, 'space'), c.arg(1, 'key'), { revision: opt(c, 'rev') });
      return [`${fmt(r.kv)} @${r.revision}`];
    }),
  scan: (s, c) =>
    read(() => {
      const r = s.machine.scan(c.arg(0, 'space'), {
        prefix: c.args[1] ?? '',
        after: c.kv.get('after'),
        limit: opt(c, 'limit') ?? 100,
        revision: opt(c, 'rev'),
      });
      return [...r.items.map(fmt), `@${r.revision} next=${r.next ?? '-'}`];
    }),
  delete: (s, c) => apply(s, { type: 'delete', space: c.arg(0, 'space'), key: c.arg(1, 'key') }),
  'delete-prefix': (s, c) => apply(s, { type: 'delete', space: c.arg(0, 'space'), prefix: c.args[1] ?? '' }),
  cas: (s, c) => {
    const expected = c.args.includes('absent')
      ? ({ absent: true } as const)
      : c.kv.has('rev')
        ? { modRevision: opt(c, 'rev') as number }
        : { value: c.kv.get('value') ?? '' };
    return apply(s, { type: 'cas', space: c.arg(0, 'space'), key: c.arg(1, 'key'), value: c.arg(2, 'new'), expected });
  },
  txn: (s, c) =>
    apply(s, {
      type: 'txn',
      space: c.arg(0, 'space'),
      compare: compares(c.kv.get('if')),
      success: txnOps(c.kv.get('then')),
      failure: txnOps(c.kv.get('else')),
    }),
  grant: (s, c) =>
    apply(s, {
      type: 'lease-grant',
      space: c.arg(0, 'space'),
      ttlMs: opt(c, 'ttl') as number,
      now: opt(c, 'now') as number,
    }),
  keepalive: (s, c) =>
    apply(s, {
      type: 'lease-keepalive',
      space: c.arg(0, 'space'),
      id: Number(c.arg(1, 'id')),
      now: opt(c, 'now') as number,
    }),
  revoke: (s, c) => apply(s, { type: 'lease-revoke', space: c.arg(0, 'space'), id: Number(c.arg(1, 'id')) }),
  expire: (s, c) => apply(s, { type: 'expire-leases', now: opt(c, 'now') as number }),
  'leader-changed': (s, c) =>
    apply(s, { type: 'leader-changed', now: opt(c, 'now') as number, electionMs: opt(c, 'election') as number }),
  compact: (s, c) => apply(s, { type: 'compact', space: c.arg(0, 'space'), revision: Number(c.arg(1, 'rev')) }),
  info: (s, c) => {
    const i = s.machine.spaceInfo(c.arg(0, 'space'));
    return [i === null ? '<none>' : `rev=${i.revision} compact=${i.compactRevision} keys=${i.keys} leases=${i.leases}`];
  },
  lease: (s, c) => {
    const l = s.machine.lease(c.arg(0, 'space'), Number(c.arg(1, 'id')));
    return [l === null ? '<none>' : `ttl=${l.ttlMs} deadline=${l.deadline} keys=[${l.keys.join(',')}]`];
  },
  due: (s, c) => [
    s.machine
      .dueLeases(opt(c, 'now') as number)
      .map((d) => `${d.space}/${d.id}@${d.deadline}`)
      .join(' ') || '<none>',
  ],
  'snapshot-roundtrip': (s) => {
    const bytes = s.machine.snapshot();
    const restored = new KvStateMachine();
    restored.restore(bytes);
    s.machine = restored;
    return [`restored applied=${restored.appliedIndex}`];
  },
};
