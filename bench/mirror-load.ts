/**
 * Load benchmark of `shadowtap mirror` (not a test): replays a VXLAN capture into the agent at
 * rising packet rates with tcpreplay and reports, per rate, what the agent received, the kernel
 * socket drops, CPU and RSS; then the highest rate up to which every rate tried had < 0.1% loss (kernel +
 * own drops, and exchanges the agent shed under overload).
 *
 * Setup (root): two network namespaces joined by a veth pair. The receiving end gets the capture's
 * outer destination MAC and IP (bench-large-vxlan.pcap: 02:00:00:00:00:02, 10.0.2.50, /16 so the
 * outer source 10.0.1.15 is on-link), so the frames tcpreplay injects on the sending end are
 * delivered to the agent's UDP socket on 10.0.2.50:4789 unmodified. One fresh agent per rate.
 *
 * Loss = (packets tcpreplay sent - datagrams the agent received) / sent: kernel socket drops,
 * backlog drops and anything else between the veth and the agent.
 *
 * Run:  npx tsc -p tsconfig.json && node dist/bench/mirror-load.js [--pcap FILE] [--rates 25000,50000,...]
 *         [--seconds 3] [--no-redact] [--rcvbuf 64m] [--rcvbuf-force true|false] [--receiver auto|native|dgram] [--redact-workers N|auto] [--prefix mb]
 *         [--shed-at PCT (the agent's --shed-at, default 50; 0 = never shed)]
 *         [--tcpreplay-args "-T nano --pps-multi=32"]  (extra tcpreplay flags: sleep between bursts instead of spinning
 *         on a core, which leaves the agent both cores of a 2-core machine)
 * --receiver and --rcvbuf-force are passed to the agent as --udp-receiver and --rcvbuf-force.
 * npm:  "bench:mirror": "npm run build && node dist/bench/mirror-load.js"
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    pcap: { type: 'string', default: '/var/tmp/stbench/bench-large-vxlan.pcap' },
    rates: { type: 'string', default: '20000,40000,60000,80000,100000,125000,150000,200000' },
    seconds: { type: 'string', default: '3' },
    'no-redact': { type: 'boolean', default: false },
    rcvbuf: { type: 'string', default: '64m' },
    'rcvbuf-force': { type: 'string', default: 'true' },
    receiver: { type: 'string', default: 'auto' },
    'redact-workers': { type: 'string', default: 'auto' },
    prefix: { type: 'string', default: 'mb' },
    'dst-mac': { type: 'string', default: '02:00:00:00:00:02' },
    'dst-ip': { type: 'string', default: '10.0.2.50' },
    'src-ip': { type: 'string', default: '10.0.1.15' },
    'max-packets': { type: 'string', default: '20000000' },
    'tcpreplay-args': { type: 'string', default: '' },
    'shed-at': { type: 'string', default: '50' },
  },
});

/** Extra node flags for the agent, e.g. BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const AGENT_NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
const RUN_MIRROR = path.join(__dirname, '..', 'test', 'helpers', 'run-mirror.js');
const P = values.prefix!;
const TX = `${P}-tx`;
const RX = `${P}-rx`;
const HTTP_PORT = 9465;

function sh(cmd: string[], check = true): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (check && r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function teardown(): void {
  spawnSync('ip', ['netns', 'del', TX]);
  spawnSync('ip', ['netns', 'del', RX]);
}

function setup(): void {
  teardown();
  sh(['ip', 'netns', 'add', TX]);
  sh(['ip', 'netns', 'add', RX]);
  sh(['ip', 'link', 'add', `${P}tx0`, 'netns', TX, 'type', 'veth', 'peer', 'name', `${P}rx0`, 'netns', RX]);
  sh(['ip', '-n', RX, 'link', 'set', `${P}rx0`, 'address', values['dst-mac']!]);
  sh(['ip', '-n', RX, 'addr', 'add', `${values['dst-ip']}/16`, 'dev', `${P}rx0`]);
  sh(['ip', '-n', TX, 'addr', 'add', `${values['src-ip']}/16`, 'dev', `${P}tx0`]);
  for (const [ns, dev] of [[TX, `${P}tx0`], [RX, `${P}rx0`]]) {
    // Jumbo frames in the capture (up to ~9 KB mirrored packets): lift the veth MTU.
    sh(['ip', '-n', ns, 'link', 'set', dev, 'mtu', '65535']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
}

function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime (fields 14, 15)
}

function status(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

function metrics(): string {
  return sh(['ip', 'netns', 'exec', RX, 'curl', '-s', '-m', '5', `http://127.0.0.1:${HTTP_PORT}/metrics`], false);
}

function vethRxDropped(): number {
  const j = JSON.parse(sh(['ip', '-n', RX, '-s', '-j', 'link', 'show', `${P}rx0`])) as Array<{ stats64?: { rx?: { dropped?: number } } }>;
  return j[0]?.stats64?.rx?.dropped ?? 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface Row {
  target: number;
  sent: number;
  achievedPps: number;
  received: number;
  kernelDrops: number;
  /** Packets the receiving veth dropped (backlog), from `ip -s link`. */
  vethDrops: number;
  failed: number;
  lossPct: number;
  cpuPct: number;
  /** Datagrams processed per second of agent CPU time (capacity of one core, independent of other load). */
  ppsPerCpuSecond: number;
  rssMiB: number;
  hwmMiB: number;
  exchanges: number;
  /** Exchanges the agent set aside under overload (--shed-at) and their share of all it assembled. */
  shed: number;
  shedPct: number;
  /** The agent's receiver (shadowtap_udp_receiver_native) and granted SO_RCVBUF (as reported, 2x). */
  receiver: string;
  rcvbufReported: number;
}

async function runRate(rate: number): Promise<Row> {
  const args = [
    'ip', 'netns', 'exec', RX, process.execPath, ...AGENT_NODE_ARGS, RUN_MIRROR,
    '--listen', `${values['dst-ip']}:4789`, '--http-port', String(HTTP_PORT), '--http-host', '127.0.0.1', '--health-port', '0',
    '--rcvbuf', values.rcvbuf!, '--rcvbuf-force', values['rcvbuf-force']!, '--udp-receiver', values.receiver!, '-o', '/dev/null', '--stats-interval', '0', '--log-level', 'warn',
    '--shed-at', values['shed-at']!,
  ];
  if (values['no-redact']) args.push('--no-redact');
  else args.push('--redact-workers', values['redact-workers']!);
  const agent = spawn(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  agent.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    for (let i = 0; i < 100 && metrics() === ''; i++) await sleep(100);
    const pid = agent.pid!;
    const limit = Math.min(Math.round(rate * Number(values.seconds)), Number(values['max-packets']));
    const veth0 = vethRxDropped();
    const cpu0 = cpuTicks(pid);
    const t0 = Date.now();
    const extra = values['tcpreplay-args']!.split(' ').filter((a) => a.length > 0);
    const r = spawnSync('ip', ['netns', 'exec', TX, 'tcpreplay', '-q', '-K', '--loop=0', `--pps=${rate}`, `--limit=${limit}`, ...extra, '-i', `${P}tx0`, values.pcap!], { encoding: 'utf8' });
    const out = r.stdout + r.stderr;
    const sentM = /Successful packets:\s+(\d+)/.exec(out) ?? /Actual: (\d+) packets/.exec(out);
    const sent = sentM ? Number(sentM[1]) : limit;
    const failed = Number(/Failed packets:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const sendWall = (Date.now() - t0) / 1000;
    const sendCpu = (cpuTicks(pid) - cpu0) / CLK_TCK;
    const ppsM = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(out);
    // Wait for the agent to drain its socket (received count stops moving).
    let last = -1;
    let m = '';
    for (let i = 0; i < 200; i++) {
      m = metrics();
      const n = metric(m, 'shadowtap_packets_received_total');
      if (n === last && metric(m, 'shadowtap_kernel_udp_rx_queue_bytes') === 0) break;
      last = n;
      await sleep(250);
    }
    const cpu = (cpuTicks(pid) - cpu0) / CLK_TCK;
    const received = metric(m, 'shadowtap_packets_received_total');
    const kernelDrops = metric(m, 'shadowtap_kernel_udp_socket_drops');
    const exchanges = metric(m, 'shadowtap_exchanges_emitted_total');
    const shed = metric(m, 'shadowtap_events_total{name="exchanges_shed_overload"}');
    const row: Row = {
      target: rate,
      sent,
      achievedPps: ppsM ? Math.round(Number(ppsM[1])) : 0,
      received,
      kernelDrops,
      vethDrops: vethRxDropped() - veth0,
      failed,
      lossPct: sent > 0 ? (100 * Math.max(0, sent - received)) / sent : 0,
      cpuPct: (100 * sendCpu) / sendWall,
      ppsPerCpuSecond: cpu > 0 ? Math.round(received / cpu) : 0,
      rssMiB: status(pid, 'VmRSS') / 2 ** 20,
      hwmMiB: status(pid, 'VmHWM') / 2 ** 20,
      exchanges,
      shed,
      shedPct: exchanges > 0 ? (100 * shed) / exchanges : 0,
      receiver: metric(m, 'shadowtap_udp_receiver_native') === 1 ? 'native' : 'dgram',
      rcvbufReported: Number(/^shadowtap_udp_rcvbuf_bytes\{listener="vxlan"\} (\d+)/m.exec(m)?.[1] ?? 0),
    };
    return row;
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    if (err.includes('"level":50') || err.includes('internal error')) process.stderr.write(err);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('mirror-load needs root (network namespaces)');
  if (!fs.existsSync(values.pcap!)) throw new Error(`capture not found: ${values.pcap}`);
  if (!fs.existsSync(RUN_MIRROR)) throw new Error(`build first: ${RUN_MIRROR} missing`);
  setup();
  const rows: Row[] = [];
  try {
    for (const rate of values.rates!.split(',').map(Number)) {
      const row = await runRate(rate);
      rows.push(row);
      process.stdout.write(
        `target ${row.target} pps [${row.receiver}, SO_RCVBUF ${(row.rcvbufReported / 2 ** 20).toFixed(1)} MiB reported]: sent ${row.sent} at ${row.achievedPps} pps, received ${row.received}, kernel socket drops ${row.kernelDrops}, veth drops ${row.vethDrops}, send failures ${row.failed}, ` +
          `loss ${row.lossPct.toFixed(3)}%, agent CPU ${row.cpuPct.toFixed(0)}% while sending, ${row.ppsPerCpuSecond} datagrams per agent CPU-second (${row.ppsPerCpuSecond > 0 ? (1e6 / row.ppsPerCpuSecond).toFixed(1) : '-'} µs CPU/datagram), RSS ${row.rssMiB.toFixed(0)} MiB (peak ${row.hwmMiB.toFixed(0)}), exchanges ${row.exchanges}, shed ${row.shed} (${row.shedPct.toFixed(2)}%)\n`,
      );
      if (row.lossPct > 5) break;
    }
  } finally {
    teardown();
  }
  // The highest rate up to which every rate tried was lossless: a lossless rate above a lossy one is luck.
  // Exchanges shed under overload are loss too: lossless = < 0.1% of packets lost and of exchanges shed.
  const lossless = (r: Row): boolean => r.lossPct < 0.1 && r.shedPct < 0.1;
  let best: Row | undefined;
  for (const r of [...rows].sort((a, b) => a.target - b.target)) {
    if (!lossless(r)) break;
    best = r;
  }
  const above = rows.filter((r) => lossless(r) && (best === undefined || r.target > best.target));
  if (above.length > 0) process.stdout.write(`(lossless again at ${above.map((r) => r.target).join(', ')} pps, above a lossy rate: not counted)\n`);
  process.stdout.write(
    best
      ? `highest rate with < 0.1% loss at it and every lower rate: ${best.achievedPps} pps (target ${best.target}); agent CPU ${best.cpuPct.toFixed(0)}% of one core, RSS ${best.rssMiB.toFixed(0)} MiB (peak ${best.hwmMiB.toFixed(0)} MiB)` +
        ` [redaction ${values['no-redact'] ? 'off' : `on, redact-workers ${values['redact-workers']}`}, rcvbuf ${values.rcvbuf}, rcvbuf-force ${values['rcvbuf-force']}, receiver ${values.receiver}]\n`
      : 'no rate had < 0.1% loss\n',
  );
  process.stdout.write(
    `--shed-at ${values['shed-at']}: ` + rows.map((r) => `${r.target} pps: packets lost ${r.lossPct.toFixed(2)}%, exchanges shed ${r.shedPct.toFixed(2)}%`).join('; ') + '\n',
  );
}

main().catch((err: Error) => {
  teardown();
  process.stderr.write(`mirror-load: ${err.message}\n`);
  process.exitCode = 1;
});
