import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseRedactRules } from '../../../src/redact/index';

// dist/test/unit/deploy -> repository root
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIR = path.join(ROOT, 'deploy', 'kubernetes');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(file: string): Obj[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], `${file}: YAML errors`);
  return docs.map((d) => d.toJSON() as Obj).filter(Boolean);
}

const ds = load('sniff-daemonset.yaml')[0]!;
const cm = load('sniff-configmap.yaml')[0]!;
const sa = load('sniff-serviceaccount.yaml')[0]!;
const pod = ds.spec.template.spec;
const c = pod.containers[0];

function flag(name: string): string | undefined {
  const args: string[] = c.args;
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit?.includes('=') ? hit.slice(hit.indexOf('=') + 1) : hit;
}

test('DaemonSet: sniff on the host network with the DNS policy that goes with it', () => {
  assert.equal(ds.apiVersion, 'apps/v1');
  assert.equal(ds.kind, 'DaemonSet');
  assert.deepEqual(ds.spec.selector.matchLabels, Object.fromEntries(Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k in ds.spec.selector.matchLabels)));
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  assert.equal(c.args[0], 'sniff');
  assert.ok(flag('interface'), 'an interface is given');
});

test('DaemonSet: non-root with only NET_RAW and NET_ADMIN', () => {
  const sc = c.securityContext;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(sc.runAsNonRoot, true);
  assert.notEqual(sc.privileged, true);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  assert.deepEqual([...sc.capabilities.add].sort(), ['NET_ADMIN', 'NET_RAW']);
  // The image grants the capabilities to node as file capabilities; no_new_privs would void them.
  assert.equal(sc.allowPrivilegeEscalation, true);
});

test('DaemonSet: resources, probes and Prometheus annotations all point at the --http-port', () => {
  const port = Number(flag('http-port'));
  assert.ok(port > 0);
  assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.livenessProbe.httpGet.port, port);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.readinessProbe.httpGet.port, port);
  const ann = ds.spec.template.metadata.annotations;
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(Number(ann['prometheus.io/port']), port);
  assert.equal(ann['prometheus.io/path'], '/metrics');
  assert.equal(c.ports.find((p: Obj) => p.containerPort === port)?.protocol, 'TCP');
});

test('ConfigMap: redaction rules that the agent accepts, mounted where --redact-rules looks', () => {
  assert.equal(cm.kind, 'ConfigMap');
  const rules = cm.data['redact-rules.yaml'];
  assert.equal(typeof rules, 'string');
  assert.doesNotThrow(() => parseRedactRules(rules));
  const file = flag('redact-rules')!;
  const vol = pod.volumes.find((v: Obj) => v.configMap?.name === cm.metadata.name);
  assert.ok(vol, 'the ConfigMap is a volume');
  const mount = c.volumeMounts.find((m: Obj) => m.name === vol.name);
  assert.equal(path.posix.join(mount.mountPath, 'redact-rules.yaml'), file);
  assert.equal(cm.metadata.namespace, ds.metadata.namespace);
});

test('ServiceAccount: used by the pods, no API token', () => {
  assert.equal(sa.kind, 'ServiceAccount');
  assert.equal(pod.serviceAccountName, sa.metadata.name);
  assert.equal(sa.metadata.namespace, ds.metadata.namespace);
  assert.equal(pod.automountServiceAccountToken, false);
});
