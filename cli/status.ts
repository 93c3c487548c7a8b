// `troupe status [--admin URL] [--json]`: a node's view of its cluster, from its admin server:
// members, Raft groups, process groups and name counts, as tables (or the raw JSON views).
import { parseArgs } from 'node:util';
import { UsageError } from './config.js';
import { adminBase, call, type AdminTarget } from './admin-client.js';

export const STATUS_USAGE = `usage: troupe status [--admin URL] [--json]

Prints the members, Raft groups and counts one node sees, from its admin HTTP server
(troupe node --admin HOST:PORT). --admin is a URL or HOST:PORT [TROUPE_ADMIN].
--json prints the /v1 views as one JSON object.
`;

type Row = readonly (string | number | null | undefined)[];

/** Left-aligned columns, two spaces apart. */
export function table(header: Row, rows: readonly Row[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

interface Views {
  status: {
    node: string;
    cluster: string;
    version: string;
    uptimeSeconds: number;
    members: { node: string; state: string; incarnation: number; address: string | null; self: boolean }[];
  };
  raft: {
    groups: {
      id: string;
      role: string;
      leader: string | null;
      term: number;
      commit: number;
      applied: number;
      voters: string[];
      learners: string[];
    }[];
  };
  pg: { scopes: { scope: string; groups: { group: string; members: number }[] }[] };
  names: { tiers: Record<string, number | null> };
}

export async function fetchViews(target: AdminTarget): Promise<Views> {
  const [status, raft, pg, names] = await Promise.all(
    ['/v1/status', '/v1/raft', '/v1/pg', '/v1/names'].map((p) => call(target, p)),
  );
  return { status, raft, pg, names } as unknown as Views;
}

export function renderStatus(v: Views): string {
  const s = v.status;
  const out = [`node ${s.node} of cluster ${s.cluster} (troupe ${s.version}, up ${s.uptimeSeconds} s)\n\n`];
  out.push(
    table(
      ['MEMBER', 'STATE', 'INCARNATION', 'ADDRESS'],
      s.members.map((m) => [m.self ? `${m.node} (this node)` : m.node, m.state, m.incarnation, m.address]),
    ),
  );
  if (v.raft.groups.length > 0)
    out.push(
      '\n',
      table(
        ['RAFT GROUP', 'ROLE', 'LEADER', 'TERM', 'COMMIT', 'APPLIED', 'VOTERS', 'LEARNERS'],
        v.raft.groups.map((g) => [
          g.id,
          g.role,
          g.leader,
          g.term,
          g.commit,
          g.applied,
          g.voters.join(','),
          g.learners.join(',') || '-',
        ]),
      ),
    );
  const groups = v.pg.scopes.reduce((n, sc) => n + sc.groups.length, 0);
  const members = v.pg.scopes.reduce((n, sc) => n + sc.groups.reduce((m, g) => m + g.members, 0), 0);
  out.push(
    '\n',
    table(
      ['COUNT', 'VALUE'],
      [
        ['pg scopes', v.pg.scopes.length],
        ['pg groups', groups],
        ['pg memberships', members],
        ...Object.entries(v.names.tiers).map(([tier, n]) => [`names (${tier})`, n] as Row),
      ],
    ),
  );
  return out.join('');
}

export async function runStatus(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  let values: { admin?: string; json?: boolean };
  try {
    values = parseArgs({
      args: [...args],
      options: { admin: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const views = await fetchViews({ base: adminBase(values.admin, env) });
  return values.json === true ? `${JSON.stringify(views, null, 2)}\n` : renderStatus(views);
}
