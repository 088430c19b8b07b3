import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { loadMirrorConfig, MIRROR_CONFIG_KEYS, envName } from '../../../src/config/mirror-config';
import { defaultRedactWorkers } from '../../../src/redact/workers/default-workers';
import { parseRedactWorkers } from '../../../src/config/values';
import { ConfigError, parseByteSize, parseHostPort, parseVniList } from '../../../src/config/values';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-config-'));
function yamlFile(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal((err as ConfigError).exitCode, 1);
    return (err as Error).message;
  }
  assert.fail('expected a ConfigError');
}

test('defaults', () => {
  const c = loadMirrorConfig({}, {});
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 4789 });
  assert.equal(c.geneveListen, undefined);
  assert.equal(c.vniAllow, undefined);
  assert.equal(c.rcvbufBytes, 64 * 1024 * 1024);
  assert.equal(c.healthPort, 4789);
  assert.equal(c.httpPort, 9465);
  assert.equal(c.format, 'jsonl');
  assert.equal(c.output, '-');
  assert.equal(c.redact, true);
  assert.equal(c.maxLagMs, 1000);
  assert.equal(c.shedAtPercent, 50);
  assert.equal(c.redactWorkers, defaultRedactWorkers());
  assert.ok(c.redactWorkers >= 0 && c.redactWorkers <= 8);
  assert.ok(Object.isFrozen(c));
});

test('precedence: flags > env > file > defaults, per key', () => {
  const f = yamlFile('p.yaml', 'listen: 10.0.0.5:4789\nvni: [42, 43]\nrcvbuf: 8m\nhttp-port: 9000\ngeneve-listen: ":6081"\nredact: false\n');
  const c = loadMirrorConfig({ 'http-port': '9100' }, { SHADOWTAP_RCVBUF: '16m', SHADOWTAP_HTTP_PORT: '9200' }, f);
  assert.deepEqual(c.listen, { host: '10.0.0.5', port: 4789 });
  assert.deepEqual(c.vniAllow, [42, 43]);
  assert.equal(c.rcvbufBytes, 16 * 1024 * 1024);
  assert.equal(c.httpPort, 9100);
  assert.deepEqual(c.geneveListen, { host: '0.0.0.0', port: 6081 });
  assert.equal(c.redact, false);
  assert.equal(c.origins.listen, `file ${f}`);
  assert.equal(c.origins.rcvbuf, 'env');
  assert.equal(c.origins['http-port'], 'flag');
  // --no-redact arrives as redact=false; SHADOWTAP_CONFIG names the file when --config is absent.
  assert.equal(loadMirrorConfig({ redact: false }, {}).redact, false);
  assert.deepEqual(loadMirrorConfig({}, { SHADOWTAP_CONFIG: f }).vniAllow, [42, 43]);
});

test('every key has an env name', () => {
  for (const k of MIRROR_CONFIG_KEYS) {
    assert.match(envName(k), /^SHADOWTAP_[A-Z_]+$/);
  }
  const c = loadMirrorConfig({}, { SHADOWTAP_GENEVE_LISTEN: '[::1]:6081', SHADOWTAP_VNI_DENY: '7', SHADOWTAP_FORMAT: 'pb', SHADOWTAP_UNRELATED: 'x' });
  assert.deepEqual(c.geneveListen, { host: '::1', port: 6081 });
  assert.deepEqual(c.vniDeny, [7]);
  assert.equal(c.format, 'pb');
});

test('clear errors: bad VNI lists', () => {
  assert.equal(message(() => loadMirrorConfig({ vni: '42,x' }, {})), '--vni: bad VNI list "42,x": "x" is not a VNI (an integer 0-16777215)');
  assert.equal(message(() => loadMirrorConfig({ vni: '42,,43' }, {})), '--vni: bad VNI list "42,,43": empty entry');
  assert.equal(message(() => loadMirrorConfig({ vni: '' }, {})), '--vni: bad VNI list: empty (give VNIs like 42,43 or a range 100-199)');
  assert.match(message(() => loadMirrorConfig({}, { SHADOWTAP_VNI: '16777216' })), /^SHADOWTAP_VNI: bad VNI list "16777216"/);
  assert.match(message(() => loadMirrorConfig({ 'vni-deny': '10-5' }, {})), /^--vni-deny: bad VNI range "10-5"/);
  assert.match(message(() => loadMirrorConfig({ vni: '0-16777215' }, {})), /too wide/);
  const f = yamlFile('v.yaml', 'vni: [42, {a: 1}]\n');
  assert.match(message(() => loadMirrorConfig({}, {}, f)), /^v\.yaml: vni: bad VNI list: \{"a":1\} is not a VNI/);
  assert.match(message(() => loadMirrorConfig({ vni: '5', 'vni-deny': '5' }, {})), /removes every VNI/);
});

test('clear errors: addresses, ports, sizes, choices', () => {
  assert.equal(message(() => loadMirrorConfig({ listen: 'eth0:4789' }, {})), '--listen: "eth0" is not an IP address (use an address such as 0.0.0.0, 10.0.0.5 or [::])');
  assert.equal(message(() => loadMirrorConfig({ listen: '0.0.0.0:70000' }, {})), '--listen: expected an integer 1-65535, got "70000"');
  assert.match(message(() => loadMirrorConfig({ listen: '::1:4789' }, {})), /expected ADDR:PORT/);
  assert.match(message(() => loadMirrorConfig({ 'health-port': '-1' }, {})), /^--health-port: expected an integer 0-65535/);
  assert.match(message(() => loadMirrorConfig({ rcvbuf: 'lots' }, {})), /^--rcvbuf: expected a byte size like 32m/);
  assert.match(message(() => loadMirrorConfig({ rcvbuf: '1500m' }, {})), /^--rcvbuf: .*1073741824/, 'at most 1 GiB');
  assert.equal(loadMirrorConfig({ rcvbuf: '1g' }, {}).rcvbufBytes, 1073741823, '1g is the most the kernel takes, 1 GiB - 1');
  assert.match(message(() => loadMirrorConfig({ format: 'xml' }, {})), /^--format: expected one of jsonl, pb, har, got "xml"/);
  assert.match(message(() => loadMirrorConfig({ 'http-port': '9000', 'health-port': '9000' }, {})), /both 9000/);
  assert.match(message(() => loadMirrorConfig({ listen: '127.0.0.1:6081', 'geneve-listen': '127.0.0.1:6081' }, {})), /same socket/);
  assert.match(message(() => loadMirrorConfig({}, { SHADOWTAP_REDACT: 'maybe' })), /^SHADOWTAP_REDACT: expected true or false/);
  assert.match(message(() => loadMirrorConfig({ 'redact-workers': 'many' }, {})), /^--redact-workers: expected auto or an integer 0-64, got "many"$/);
  assert.match(message(() => loadMirrorConfig({}, { SHADOWTAP_REDACT_WORKERS: '65' })), /^SHADOWTAP_REDACT_WORKERS: expected auto or an integer 0-64, got "65"$/);
  assert.equal(loadMirrorConfig({ 'redact-workers': '0' }, {}).redactWorkers, 0);
  assert.equal(loadMirrorConfig({}, {}, yamlFile('w.yaml', 'redact-workers: 3\n')).redactWorkers, 3);
  assert.equal(loadMirrorConfig({ 'redact-workers': 'auto' }, {}).redactWorkers, defaultRedactWorkers());
  assert.equal(loadMirrorConfig({}, {}, yamlFile('w-auto.yaml', 'redact-workers: auto\n')).redactWorkers, defaultRedactWorkers());
  assert.match(message(() => loadMirrorConfig({}, {}, yamlFile('w-bad.yaml', 'redact-workers: 1.5\n'))), /redact-workers: expected auto or an integer 0-64, got 1\.5$/);
  assert.equal(loadMirrorConfig({ 'shed-at': '0' }, {}).shedAtPercent, 0);
  assert.equal(loadMirrorConfig({}, { SHADOWTAP_SHED_AT: '80' }).shedAtPercent, 80);
  assert.match(message(() => loadMirrorConfig({ 'shed-at': '100' }, {})), /^--shed-at: expected an integer 0-99, got "100"/);
});

test('auto worker count: none on 1-2 cores, then the cores left after the capture thread, at most 8', () => {
  const table: Array<[number, number]> = [[1, 0], [2, 0], [3, 2], [4, 3], [9, 8], [16, 8]];
  for (const [cores, workers] of table) assert.equal(defaultRedactWorkers(cores), workers, `${cores} cores`);
  assert.equal(parseRedactWorkers('auto', 'x'), defaultRedactWorkers());
  assert.equal(parseRedactWorkers(undefined, 'x'), defaultRedactWorkers());
  assert.equal(parseRedactWorkers('2', 'x'), 2);
});

test('clear errors: config file problems', () => {
  assert.match(message(() => loadMirrorConfig({}, {}, path.join(tmp, 'missing.yaml'))), /^cannot read config file .*missing\.yaml: no such file$/);
  const typo = yamlFile('t.yaml', 'listen: 0.0.0.0:4789\nrcvbuff: 8m\n');
  assert.match(message(() => loadMirrorConfig({}, {}, typo)), /unknown key "rcvbuff" \(did you mean "rcvbuf"\?\); known keys: listen, /);
  const far = yamlFile('f.yaml', 'colour: blue\n');
  assert.match(message(() => loadMirrorConfig({}, {}, far)), /unknown key "colour"; known keys/);
  const bad = yamlFile('b.yaml', 'listen: [unclosed\n');
  assert.match(message(() => loadMirrorConfig({}, {}, bad)), /not valid YAML/);
  const list = yamlFile('l.yaml', '- a\n- b\n');
  assert.match(message(() => loadMirrorConfig({}, {}, list)), /expected a mapping of keys/);
  const dup = yamlFile('d.yaml', 'vni: 1\nvni: 2\n');
  assert.match(message(() => loadMirrorConfig({}, {}, dup)), /not valid YAML/);
  const badVal = yamlFile('bv.yaml', 'health-port: true\n');
  assert.match(message(() => loadMirrorConfig({}, {}, badVal)), /^bv\.yaml: health-port: expected an integer 0-65535, got true$/);
  // An empty file and `key:` with no value mean "not set".
  assert.equal(loadMirrorConfig({}, {}, yamlFile('e.yaml', '')).httpPort, 9465);
  assert.equal(loadMirrorConfig({}, {}, yamlFile('n.yaml', 'vni:\n')).vniAllow, undefined);
});

test('value parsers', () => {
  assert.deepEqual(parseVniList('7, 3-5 ,3', 'x'), [3, 4, 5, 7]);
  assert.deepEqual(parseVniList(42, 'x'), [42]);
  assert.deepEqual(parseVniList(['1', 2], 'x'), [1, 2]);
  assert.equal(parseByteSize('32MiB', 'x', 0, 2 ** 40), 32 * 1024 * 1024);
  assert.equal(parseByteSize('512k', 'x', 0, 2 ** 40), 512 * 1024);
  assert.equal(parseByteSize(4096, 'x', 0, 2 ** 40), 4096);
  assert.deepEqual(parseHostPort('[::]:4789', 'x'), { host: '::', port: 4789 });
  assert.deepEqual(parseHostPort('6081', 'x'), { host: '0.0.0.0', port: 6081 });
});

test('property: arbitrary flag strings never throw anything but ConfigError', () => {
  fc.assert(
    fc.property(fc.constantFrom(...MIRROR_CONFIG_KEYS), fc.string(), (key, value) => {
      try {
        loadMirrorConfig({ [key]: value }, {});
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
      }
    }),
    { numRuns: 500 },
  );
});
