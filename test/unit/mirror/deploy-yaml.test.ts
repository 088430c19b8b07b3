/** The mirror Kubernetes manifests parse, and the fields the NLB path depends on are right. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { loadMirrorConfig } from '../../../src/config/mirror-config';

const DIR = path.join(__dirname, '..', '..', '..', '..', 'deploy', 'kubernetes');
function docs(file: string): Array<Record<string, any>> {
  return YAML.parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Record<string, any>;
  });
}

test('mirror-deployment.yaml: Deployment runs `mirror` with UDP 4789, TCP 4789 health, probes on /readyz /healthz', () => {
  const all = docs('mirror-deployment.yaml');
  const dep = all.find((d) => d.kind === 'Deployment')!;
  const cm = all.find((d) => d.kind === 'ConfigMap')!;
  assert.equal(dep.apiVersion, 'apps/v1');
  assert.ok(dep.spec.replicas >= 2, 'more than one target behind the NLB');
  assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  const c = dep.spec.template.spec.containers[0];
  assert.equal(c.args[0], 'mirror');
  const ports = c.ports as Array<{ name: string; containerPort: number; protocol: string }>;
  assert.ok(ports.some((p) => p.containerPort === 4789 && p.protocol === 'UDP'));
  assert.ok(ports.some((p) => p.containerPort === 4789 && p.protocol === 'TCP'));
  const http = ports.find((p) => p.name === 'http')!;
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.readinessProbe.httpGet.port, 'http');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.ok(dep.spec.template.spec.terminationGracePeriodSeconds >= 30);
  // The config file the pod mounts is valid for the agent and agrees with the declared ports.
  const mount = c.volumeMounts.find((m: any) => m.name === 'config');
  assert.equal(c.args[c.args.indexOf('--config') + 1], `${mount.mountPath}/mirror.yaml`);
  const tmp = path.join(require('node:os').tmpdir(), `mirror-cm-${process.pid}.yaml`);
  fs.writeFileSync(tmp, cm.data['mirror.yaml']);
  try {
    const cfg = loadMirrorConfig({}, {}, tmp);
    assert.equal(cfg.listen.port, 4789);
    assert.equal(cfg.healthPort, 4789);
    assert.equal(cfg.httpPort, http.containerPort);
  } finally {
    fs.rmSync(tmp);
  }
});

test('mirror-service.yaml: NLB with a UDP 4789 listener, TCP health check on 4789, cross-zone, source_ip stickiness', () => {
  const [svc] = docs('mirror-service.yaml');
  const dep = docs('mirror-deployment.yaml').find((d) => d.kind === 'Deployment')!;
  assert.equal(svc.kind, 'Service');
  assert.equal(svc.spec.type, 'LoadBalancer');
  const a = svc.metadata.annotations as Record<string, string>;
  assert.equal(a['service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol'], 'TCP');
  assert.equal(a['service.beta.kubernetes.io/aws-load-balancer-healthcheck-port'], '4789');
  assert.equal(a['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'], 'ip');
  assert.match(a['service.beta.kubernetes.io/aws-load-balancer-attributes'], /load_balancing\.cross_zone\.enabled=true/);
  assert.match(a['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'], /stickiness\.type=source_ip/);
  const [p] = svc.spec.ports;
  assert.equal(svc.spec.ports.length, 1);
  assert.equal(p.protocol, 'UDP');
  assert.equal(p.port, 4789);
  const named = dep.spec.template.spec.containers[0].ports.find((x: any) => x.name === p.targetPort);
  assert.equal(named.containerPort, 4789);
  assert.equal(named.protocol, 'UDP');
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(dep.spec.template.metadata.labels[k], v);
});
