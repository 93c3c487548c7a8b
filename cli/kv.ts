// `troupe kv get|put|del|watch` against a node's admin HTTP API. get prints the value (or, with
// --prefix, `key<TAB>value` lines, following every page); put and del print the revision after;
// watch prints `revision<TAB>put|delete<TAB>key<TAB>value` lines until interrupted.
import { parseArgs } from 'node:util';
import { UsageError } from './config.js';
import { AdminCallError, adminBase, adminToken, call, keyPath, type AdminTarget } from './admin-client.js';

export const KV_USAGE = `usage: troupe kv <get|put|del|watch> SPACE [KEY] [VALUE] [options]

  troupe kv get SPACE KEY                 print the value of a key
  troupe kv get SPACE --prefix P          print "key<TAB>value" for every key under P
  troupe kv put SPACE KEY VALUE           write a key; --if-match REV writes only at that mod revision
  troupe kv del SPACE KEY                 delete a key (or every key under --prefix P)
  troupe kv watch SPACE KEY | --prefix P  print changes as "revision<TAB>type<TAB>key<TAB>value"
                                          (--from REV replays from a revision)

options:
  --admin URL               the node's admin server, a URL or HOST:PORT [TROUPE_ADMIN]
  --admin-token-file FILE   the bearer token writes need [TROUPE_ADMIN_TOKEN_FILE]
  --json                    print the server's JSON answer
`;

type Flags = {
  admin?: string;
  'admin-token-file'?: string;
  prefix?: string;
  'if-match'?: string;
  from?: string;
  json?: boolean;
};

/** Runs one kv command; writes to `out` (a watch writes as events come, until `signal` aborts). */
export async function runKv(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        admin: { type: 'string' },
        'admin-token-file': { type: 'string' },
        prefix: { type: 'string' },
        'if-match': { type: 'string' },
        from: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }) as { values: Flags; positionals: string[] };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const { values, positionals } = parsed;
  const [command, space, key, value, ...extra] = positionals;
  if (command === undefined || !['get', 'put', 'del', 'watch'].includes(command))
    throw new UsageError(`expected get, put, del or watch, got ${JSON.stringify(command ?? '')} (troupe kv --help)`);
  if (space === undefined) throw new UsageError(`kv ${command} needs a SPACE`);
  if (extra.length > 0 || (command !== 'put' && value !== undefined))
    throw new UsageError(`kv ${command}: unexpected ${JSON.stringify(extra[0] ?? value)}`);
  const byPrefix = values.prefix !== undefined;
  if (command === 'put' ? key === undefined || value === undefined : byPrefix === (key !== undefined))
    throw new UsageError(
      command === 'put' ? 'kv put needs SPACE KEY VALUE' : `kv ${command} needs a KEY or --prefix P (one of them)`,
    );
  const token = adminToken(values['admin-token-file'], env);
  const target: AdminTarget = { base: adminBase(values.admin, env), ...(token !== undefined ? { token } : {}) };
  const json = values.json === true;
  const print = (body: unknown, text: string) => out(json ? `${JSON.stringify(body)}\n` : text);
  switch (command) {
    case 'get': {
      if (!byPrefix) {
        const r = await call(target, keyPath(space, key!));
        return print(r, `${valueText(r)}\n`);
      }
      let after: string | null = null;
      let revision: number | null = null;
      do {
        const q = new URLSearchParams({ prefix: values.prefix! });
        if (after !== null) q.set('after', after);
        if (revision !== null) q.set('revision', String(revision));
        const r = await call(target, `/v1/kv/${encodeURIComponent(space)}?${q.toString()}`);
        const items = r.items as Record<string, unknown>[];
        for (const item of items) print(item, `${String(item.key)}\t${valueText(item)}\n`);
        after = r.next as string | null;
        revision = r.revision as number;
      } while (after !== null);
      return;
    }
    case 'put': {
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      if (values['if-match'] !== undefined) headers['if-match'] = values['if-match'];
      const r = await call(target, keyPath(space, key!), { method: 'PUT', body: value!, headers });
      return print(r, `${String(r.revision)}\n`);
    }
    case 'del': {
      const path = byPrefix
        ? `/v1/kv/${encodeURIComponent(space)}?prefix=${encodeURIComponent(values.prefix!)}`
        : keyPath(space, key!);
      const headers: Record<string, string> = {};
      if (values['if-match'] !== undefined) headers['if-match'] = values['if-match'];
      const r = await call(target, path, { method: 'DELETE', headers });
      return print(r, `${String(r.deleted)} deleted at revision ${String(r.revision)}\n`);
    }
    case 'watch':
      return watch(target, space, key, values, out, signal);
  }
}

function valueText(kv: Record<string, unknown>): string {
  return kv.encoding === 'base64' ? `base64:${String(kv.value)}` : String(kv.value);
}

async function watch(
  target: AdminTarget,
  space: string,
  key: string | undefined,
  values: Flags,
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const q = new URLSearchParams({ watch: '' });
  if (values.prefix !== undefined) q.set('prefix', values.prefix);
  if (values.from !== undefined) q.set('fromRevision', values.from);
  const path = key !== undefined ? keyPath(space, key) : `/v1/kv/${encodeURIComponent(space)}`;
  let r: Response;
  try {
    r = await fetch(`${target.base}${path}?${q.toString()}`, signal !== undefined ? { signal } : {});
  } catch (e) {
    if (signal?.aborted === true) return;
    throw new AdminCallError(0, 'ERR_UNREACHABLE', `${target.base}: ${(e as Error).message}`);
  }
  if (!r.ok) {
    const body = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new AdminCallError(r.status, body.error?.code ?? `HTTP_${r.status}`, body.error?.message ?? '');
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === undefined || data === undefined) continue;
        const d = JSON.parse(data) as Record<string, unknown>;
        if (event === 'error') throw new AdminCallError(200, String(d.code), String(d.message));
        const kv = d.kv as Record<string, unknown> | null;
        out(
          values.json === true
            ? `${data}\n`
            : `${String(d.revision)}\t${event}\t${String(d.key)}${kv !== null ? `\t${valueText(kv)}` : ''}\n`,
        );
      }
    }
  } catch (e) {
    if (signal?.aborted === true) return;
    throw e;
  }
}
