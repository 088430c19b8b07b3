/**
 * Overload in `mirror`, made real: the agent is stopped (SIGSTOP) while mirror datagrams pile up in its
 * kernel receive queue to ~70% of the buffer, then continued. With --shed-at 50 it sets whole exchanges
 * aside until the queue drains: each one counted (exchanges_shed_overload), the rest written complete, no
 * datagram dropped by the kernel, ready again afterwards, and the traffic that follows written whole. With --shed-at 0 the same backlog is worked through whole.
 * Needs Linux procfs (the queue fill is read from /proc/self/net/udp); skips with a reason without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, httpGet, metricValue, readJsonl, sleep, startAgent } from './mirror-agent';
import { udpPayloadsFromPcap, withVxlanVni } from './mirror-packets';
import { parseProcNetUdp } from '../../src/live/udp-stats';

const ROOT = path.join(__dirname, '..', '..', '..');
const PCAP = path.join(ROOT, 'pcaps', 'vxlan', 'mirror-lab.pcap');
const EXCHANGES_PER_COPY = 4;
/** Copies sent after the backlog drained, on VNIs from AFTER_VNI + 1. */
const AFTER_COPIES = 3;
const AFTER_VNI = 9000;
const skip = fs.existsSync('/proc/self/net/udp') ? false : 'needs Linux procfs (/proc/self/net/udp)';

/** Bytes queued on the UDP socket bound to 127.0.0.1:`port` (the agent's; one socket has that port). */
function rxQueue(port: number): number {
  const row = parseProcNetUdp(fs.readFileSync('/proc/self/net/udp', 'latin1')).find((r) => r.localPort === port);
  assert.ok(row, `no UDP socket on port ${port}`);
  return row.rxQueueBytes;
}

interface Outcome {
  written: Array<Record<string, any>>; emitted: number; shed: number; kernelDrops: number; copies: number; readyAfterMs: number; log: string;
  /** /readyz right after the backlog was let go. */
  readyzDuring: { status: number; body: string };
}

async function backlogRun(dir: string, shedAt: string, receiver: string): Promise<Outcome> {
  const [udpPort, httpPort] = [await freePort(), await freePort()];
  const out = path.join(dir, `shed-${shedAt}-${receiver}.jsonl`);
  const agent = startAgent([
    '--listen', `127.0.0.1:${udpPort}`, '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--health-port', '0',
    '--stats-interval', '0', '--redact-workers', '0', '--rcvbuf', '1m', '--shed-at', shedAt, '--udp-receiver', receiver, '-o', out,
  ]);
  try {
    await agent.started();
    const m = (await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body;
    const rcvbuf = metricValue(m, 'shadowtap_udp_rcvbuf_bytes{listener="vxlan"}') ?? 0;
    assert.ok(rcvbuf > 0, 'the agent reports its receive buffer');
    const datagrams = await udpPayloadsFromPcap(PCAP);
    const tx = dgram.createSocket('udp4');
    const send = (d: Buffer, vni: number): Promise<void> =>
      new Promise<void>((resolve, reject) => tx.send(withVxlanVni(d, vni), udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    agent.proc.kill('SIGSTOP');
    let copies = 0;
    try {
      // Each copy of the capture on its own VNI: its own flows, EXCHANGES_PER_COPY exchanges.
      while (rxQueue(udpPort) < 0.7 * rcvbuf && copies < 5000) {
        copies++;
        for (const d of datagrams) await send(d, 1000 + copies);
      }
    } finally {
      agent.proc.kill('SIGCONT');
    }
    assert.ok(copies < 5000, 'the queue filled');
    // Right after the backlog (within the 2 s hold): not ready, saying why — or, never shedding, not for that.
    const during = await httpGet(`http://127.0.0.1:${httpPort}/readyz`);
    for (let i = 0; i < 100 && rxQueue(udpPort) > 0; i++) await sleep(50);
    // Ready again once the queue drained and 2 s passed without a shed exchange (no new traffic arrives).
    const t0 = Date.now();
    let readyAfterMs = -1;
    while (Date.now() - t0 < 8000) {
      if ((await httpGet(`http://127.0.0.1:${httpPort}/readyz`)).status === 200) {
        readyAfterMs = Date.now() - t0;
        break;
      }
      await sleep(100);
    }
    // Traffic after the backlog, at an easy pace: nothing of it may be shed.
    for (let k = 1; k <= AFTER_COPIES; k++) for (const d of datagrams) await send(d, AFTER_VNI + k);
    tx.close();
    await sleep(1200); // the last exchanges written, one more stats poll (kernel drops)
    const stopCode = await agent.stop('SIGTERM');
    assert.equal(stopCode, 0, agent.stderr());
    const stopped = agent.stderr().split('\n').find((l) => l.includes('"msg":"stopped"'));
    assert.ok(stopped, agent.stderr());
    const counters = (JSON.parse(stopped) as { counters: Record<string, number> }).counters;
    return {
      written: readJsonl(out),
      emitted: counters.exchanges_emitted ?? 0,
      shed: counters.exchanges_shed_overload ?? 0,
      kernelDrops: counters.kernel_udp_socket_drops ?? 0,
      copies,
      readyAfterMs,
      log: agent.stderr(),
      readyzDuring: during,
    };
  } finally {
    await agent.stop('SIGKILL');
  }
}

test('mirror under a real backlog (native and dgram receivers): whole exchanges shed and counted, the rest complete, no kernel drop; --shed-at 0 keeps all', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-shed-'));
  try {
    // auto = the native receiver where it is built (CI); dgram = the node:dgram fallback, same queue reading.
    for (const [shedAt, receiver] of [['50', 'auto'], ['50', 'dgram'], ['0', 'auto']]) {
      const r = await backlogRun(dir, shedAt, receiver);
      const what = `--shed-at ${shedAt} --udp-receiver ${receiver}: ${r.copies} copies, emitted ${r.emitted}, shed ${r.shed}, written ${r.written.length}`;
      t.diagnostic(what);
      assert.equal(r.kernelDrops, 0, what);
      assert.equal(r.emitted, (r.copies + AFTER_COPIES) * EXCHANGES_PER_COPY, what);
      assert.equal(r.written.length + r.shed, r.emitted, `every exchange written or counted as shed (${what})`);
      assert.ok(r.readyAfterMs >= 0, `ready again after the backlog (${what})`);
      if (shedAt === '0') {
        assert.equal(r.shed, 0, what);
        assert.ok(!r.readyzDuring.body.includes('shedding exchanges'), r.readyzDuring.body);
      } else {
        assert.ok(r.shed > 0, `exchanges shed (${what})`);
        assert.equal(r.readyzDuring.status, 503, r.readyzDuring.body);
        assert.ok(r.readyzDuring.body.includes('shedding exchanges'), r.readyzDuring.body);
        const lines = r.log.split('\n').filter((l) => l.includes('"msg":"overload'));
        assert.equal(lines.length, 2, `one line as the overload began, one as it ended: ${lines.join(' | ')}`);
        assert.equal((JSON.parse(lines[1]) as { exchangesShed: number }).exchangesShed, r.shed);
      }
      const after = r.written.filter((ex) => ex.connection?.vni > AFTER_VNI).length;
      assert.equal(after, AFTER_COPIES * EXCHANGES_PER_COPY, `once the queue drained nothing is shed (${what})`);
      for (const ex of r.written) {
        const c = ex.completeness ?? {};
        assert.ok(!c.requestMissing && !c.responseMissing && !c.requestGapBytes && !c.responseGapBytes, `complete: ${JSON.stringify(c)}`);
        assert.equal(typeof ex.response?.status, 'number');
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
