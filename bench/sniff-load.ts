/**
 * Load benchmark of `shadowtap sniff` (run as root: it builds two network namespaces).
 *
 *   node dist/bench/sniff-load.js [PCAP] [RATE,RATE,...]     (npm run bench:sniff)
 *
 * tcpreplay replays PCAP (default /var/tmp/stbench/bench-large.pcap, or $SNIFF_BENCH_PCAP) out of one
 * end of a veth pair at a fixed packet rate; the agent sniffs the other end (no filter, dedup on,
 * JSON lines to /dev/null, default redaction). For each rate it reports packets sent, packets the
 * agent received (its /metrics), loss (libpcap + kernel + own: cap 0.2.1 exposes no pcap_stats, so
 * loss is measured end to end as sent - received), the agent's CPU (utime+stime over the step) and
 * RSS. The verdict is the highest rate with loss < 0.1%. Steps run in rising order and stop after
 * the second one over 1% loss.
 *
 * Ring size: cap 0.2.1 fixes libpcap's snaplen at 65535 and turns on immediate mode (TPACKET_V2, fixed-size
 * ring frames), so on an interface with a 64 KiB MTU (this veth) or on `any` each ring slot takes ~64 KiB:
 * --buffer-size 256m (SNIFF_BENCH_BUFFER) holds ~4000 packets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { canUseNetns, withNetnsPair } from '../test/helpers/netns';
import { startAgent, fetchInNs, metric, RUN_SNIFF } from '../test/integration/sniff-lab';

const PCAP = process.argv[2] ?? process.env.SNIFF_BENCH_PCAP ?? '/var/tmp/stbench/bench-large.pcap';
const RATES = (process.argv[3] ?? '1000,2000,4000,6000,8000,12000,20000').split(',').map(Number);
const STEP_SECONDS = 3;
const HTTP_PORT = 19466;
const TICKS = 100; // USER_HZ

function procCpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function procMemMiB(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function main(): Promise<void> {
  const why = canUseNetns();
  if (why) throw new Error(`sniff-load needs network namespaces: ${why}`);
  if (!fs.existsSync(PCAP)) throw new Error(`${PCAP} not found (give a pcap as the first argument)`);
  if (spawnSync('tcpreplay', ['--version']).error) throw new Error('tcpreplay is not installed (apt-get install tcpreplay)');
  const pcapPackets = Number(/Number of packets:\s+(\d+)/.exec(spawnSync('capinfos', ['-c', '-M', PCAP], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 0);
  console.log(`sniff-load: ${path.basename(PCAP)} (${pcapPackets || '?'} packets), ${STEP_SECONDS} s per rate, node ${process.version}`);
  await withNetnsPair('sbench', async (p) => {
    // The pcap holds GRO/TSO-sized frames (up to 64 KiB): a 1500-byte MTU would drop them in the veth.
    for (const [ns, dev] of [[p.nsA, p.ifA], [p.nsB, p.ifB]] as const) spawnSync('ip', ['-n', ns, 'link', 'set', dev, 'mtu', '65535']);
    // tcpreplay writes frames whose MACs are not the veth's: promiscuous capture sees them all.
    const agent = await startAgent([
      'ip', 'netns', 'exec', p.nsB, process.execPath, RUN_SNIFF, '-i', p.ifB, '--http-port', String(HTTP_PORT),
      '--stats-interval', '0', '-o', '/dev/null', '--buffer-size', process.env.SNIFF_BENCH_BUFFER ?? '256m',
    ]);
    const pid = agent.child.pid!;
    const rows: string[] = [];
    let best = 0;
    let overOnePercent = 0;
    let prevReceived = 0;
    console.log('rate_pps  sent      received  loss_%   cpu_%  rss_MiB  exchanges');
    // Warm-up (JIT, first flows): 2000 packets at 1000 pps, not reported.
    spawnSync('ip', ['netns', 'exec', p.nsA, 'tcpreplay', '-q', `--intf1=${p.ifA}`, '--pps=1000', '--limit=2000', PCAP]);
    await new Promise((res) => setTimeout(res, 1000));
    prevReceived = metric((await fetchInNs(p.nsB, HTTP_PORT, '/metrics'))[1], 'shadowtap_packets_received_total');
    for (const rate of RATES) {
      const limit = pcapPackets ? Math.min(rate * STEP_SECONDS, pcapPackets) : rate * STEP_SECONDS;
      const cpu0 = procCpuSeconds(pid);
      const t0 = process.hrtime.bigint();
      const r = await new Promise<string>((resolve) => {
        const c = spawn('ip', ['netns', 'exec', p.nsA, 'tcpreplay', '-q', `--intf1=${p.ifA}`, `--pps=${rate}`, `--limit=${limit}`, PCAP], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (out += d.toString()));
        c.once('close', () => resolve(out));
      });
      await new Promise((res) => setTimeout(res, 1000)); // drain
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = ((procCpuSeconds(pid) - cpu0) / secs) * 100;
      const sent = Number(/Successful packets:\s+(\d+)/.exec(r)?.[1] ?? NaN);
      const [, m] = await fetchInNs(p.nsB, HTTP_PORT, '/metrics');
      const received = metric(m, 'shadowtap_packets_received_total') - prevReceived;
      prevReceived += received;
      const loss = sent > 0 ? Math.max(0, (sent - received) / sent) * 100 : NaN;
      const mem = procMemMiB(pid);
      const row = `${String(rate).padEnd(9)} ${String(sent).padEnd(9)} ${String(received).padEnd(9)} ${loss.toFixed(3).padEnd(8)} ${cpu.toFixed(0).padEnd(6)} ${mem.rss.toFixed(0).padEnd(8)} ${metric(m, 'shadowtap_exchanges_emitted_total')}`;
      console.log(row);
      rows.push(row);
      if (loss < 0.1) best = Math.max(best, rate);
      if (loss > 1 && ++overOnePercent >= 2) break;
    }
    const mem = procMemMiB(pid);
    await agent.stop();
    console.log(`highest rate with < 0.1% loss: ${best || 'none'} pps; peak RSS ${mem.hwm.toFixed(0)} MiB`);
  });
}

main().catch((err: Error) => {
  console.error(`sniff-load: ${err.message}`);
  process.exitCode = 1;
});
