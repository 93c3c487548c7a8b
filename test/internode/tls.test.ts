// TLS (wss://) between nodes, with certificate verification on both sides: a shared CA lets
// nodes in, a certificate from another CA or a plain connection is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Node } from '../../runtime/index.js';
import { Internode, type TlsOptions } from '../../internode/index.js';
import { SECRET, until } from './helpers.js';

interface Pki {
  good: TlsOptions;
  rogue: TlsOptions;
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'rogue-ca'])
    run('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca}`);
  for (const [cert, ca] of [
    ['node', 'ca'],
    ['rogue', 'rogue-ca'],
  ] as const) {
    run('req', ...ec, '-keyout', `${cert}.key`, '-out', `${cert}.csr`, '-subj', `/CN=${cert}`);
    run(
      'x509',
      '-req',
      '-in',
      `${cert}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${cert}.crt`,
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
  }
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    good: { ca: read('ca.crt'), cert: read('node.crt'), key: read('node.key') },
    rogue: { ca: read('rogue-ca.crt'), cert: read('rogue.crt'), key: read('rogue.key') },
  };
}

let pki: Pki;
const started: { node: Node; net: Internode }[] = [];

async function member(
  name: string,
  tls: TlsOptions | undefined,
  seeds: string[] = [],
): Promise<{ node: Node; net: Internode }> {
  const node = await Node.start({ name, incarnation: 1 });
  const net = await Internode.start({
    node,
    cluster: 'tls',
    secret: SECRET,
    listen: '127.0.0.1:0',
    seeds,
    ...(tls !== undefined ? { tls } : {}),
  });
  const m = { node, net };
  started.push(m);
  return m;
}

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  for (const m of started.splice(0)) {
    await m.net.stop();
    await m.node.stop();
  }
});

describe('TLS between nodes', () => {
  it('two nodes with certificates from the cluster CA connect over wss and talk', async () => {
    const a = await member('a', pki.good);
    const b = await member('b', pki.good, [a.net.address]);
    await until(() => a.net.upNodes().includes('b') && b.net.upNodes().includes('a'));
    const got: unknown[] = [];
    const inbox = b.node.spawn(async (ctx) => void got.push(await ctx.receive()));
    a.node.send(inbox, 'over tls');
    await until(() => got.length === 1);
    expect(got).toEqual(['over tls']);
  });

  it('a node whose certificate comes from another CA is refused, and so is a plain connection', async () => {
    const a = await member('a', pki.good);
    const rogue = await member('rogue', pki.rogue, [a.net.address]);
    const plain = await member('plain', undefined, [a.net.address]);
    const honest = await member('c', pki.good, [a.net.address]);
    // Each refused node has had its dial fail (TLS verification, or TLS spoken to plain ws), while
    // the honest node, dialing the same seed, came up.
    await until(
      () => a.net.upNodes().includes('c') && rogue.net.stats().dialFailures > 0 && plain.net.stats().dialFailures > 0,
    );
    expect(a.net.upNodes()).toEqual(['c']);
    expect(rogue.net.upNodes()).toEqual([]);
    expect(plain.net.upNodes()).toEqual([]);
    // The rogue's failure is a TLS one, counted by its reason.
    expect(rogue.net.stats().dialFailuresByReason.tls).toBeGreaterThan(0);
    void honest;
  });
});
