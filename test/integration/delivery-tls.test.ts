/**
 * Delivery over TLS and mutual TLS with certificates made by openssl for this run (a CA, a server
 * certificate for 127.0.0.1, a client certificate), in-process collector and agent sink.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deliver, runCollector } from '../unit/collect/helpers';
import { tmp } from '../unit/delivery/helpers';
import { walkStore } from '../../src/collect/read-store';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = hasOpenssl ? false : 'openssl is not installed: no certificates to test TLS with';
if (skip) process.stdout.write(`# skipping TLS delivery tests: ${skip}\n`);

let pki: Record<'ca' | 'srvCert' | 'srvKey' | 'cliCert' | 'cliKey' | 'otherCa', Buffer>;

function sh(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

function makeCa(dir: string, name: string): void {
  sh(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

function makeLeaf(dir: string, name: string, ca: string, ext: string): void {
  sh(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  sh(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

describe('delivery over TLS', { skip }, () => {
  before(() => {
    const d = tmp('pki');
    makeCa(d, 'ca');
    makeCa(d, 'other');
    makeLeaf(d, 'server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    makeLeaf(d, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
    const r = (f: string): Buffer => fs.readFileSync(path.join(d, f));
    pki = { ca: r('ca.crt'), srvCert: r('server.crt'), srvKey: r('server.key'), cliCert: r('client.crt'), cliKey: r('client.key'), otherCa: r('other.crt') };
  });

  it('TLS: an agent that trusts the CA delivers; one that does not never connects', async () => {
    const r = await runCollector({ tls: { cert: pki.srvCert, key: pki.srvKey } });
    const ok = await deliver({ host: '127.0.0.1', port: r.port, tls: { ca: pki.ca } }, 30);
    assert.equal(ok.get('sink_exchanges_acked'), 30);
    const bad = await deliver({ host: '127.0.0.1', port: r.port, tls: { ca: pki.otherCa } }, 5, undefined, 1500);
    assert.equal(bad.get('sink_exchanges_acked'), 0);
    assert.ok(bad.get('sink_reconnects') > 0);
    await r.collector.close();
    await r.store.close();
    assert.equal([...walkStore(r.store.dir)].reduce((n, x) => n + x.exchanges.length, 0), 30);
  });

  it('mutual TLS: an agent without a client certificate is refused (one log line), one with it delivers', async () => {
    const r = await runCollector({ tls: { cert: pki.srvCert, key: pki.srvKey, ca: pki.ca } });
    const anon = await deliver({ host: '127.0.0.1', port: r.port, tls: { ca: pki.ca } }, 5, undefined, 1500);
    assert.equal(anon.get('sink_exchanges_acked'), 0);
    assert.ok(r.logs.some((l) => l.code === 'TLS' && l.level === 40), 'the refused handshake is logged');
    const ok = await deliver({ host: '127.0.0.1', port: r.port, tls: { ca: pki.ca, cert: pki.cliCert, key: pki.cliKey } }, 40);
    assert.equal(ok.get('sink_exchanges_acked'), 40);
    await r.collector.close();
    await r.store.close();
    assert.equal([...walkStore(r.store.dir)].reduce((n, x) => n + x.exchanges.length, 0), 40);
  });
});
