/**
 * Micro benchmark of llhttp execute over a pipelined keep-alive stream (plain loop, process.hrtime.bigint).
 * Run: npx tsc -p tsconfig.json && node dist/bench/llhttp.bench.js [rounds per trial] [trials]
 *
 * The same bytes (N responses back to back, cut into 1448-byte segments like TCP payloads) go through:
 *  1. our binding (src/http/llhttp.ts): one input copy into a grow-only WASM buffer, body views, header
 *     strings built once per token;
 *  2. the llhttp-wasm package's own wrapper: malloc + copy + free per execute, body copied out of WASM;
 *  3. the whole HttpStream (our binding + pairing + record building + body copies), for context.
 * Prints MB/s and messages/s per variant. No dependencies beyond the project's own.
 */
import { Counters } from '../src/observe/counters';
import { LlhttpParser, TYPE_REQUEST, TYPE_RESPONSE, type LlhttpHandler } from '../src/http/llhttp';
import { createHttpStream } from '../src/http/http-stream';

interface PkgParser {
  onMessageBegin?: () => number;
  onHeadersComplete?: (msg: unknown) => number;
  onMessageComplete?: () => number;
  onBody?: (data: Uint8Array) => number;
  execute(data: Uint8Array): number;
  destroy(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('llhttp-wasm') as { createParser(type: string): PkgParser };

const rounds = Number(process.argv[2] ?? 20);
const MESSAGES = 2000;
const SEG = 1448;

function responseOf(i: number): Buffer {
  const body = Buffer.alloc(200 + ((i * 37) % 3000), 0x61 + (i % 26));
  const head =
    'HTTP/1.1 200 OK\r\nDate: Thu, 07 Mar 2013 21:43:07 GMT\r\nServer: Apache/2.4.3 (Fedora)\r\n' +
    `ETag: "1261-${i.toString(16)}"\r\nContent-Type: text/plain; charset=UTF-8\r\nCache-Control: max-age=60\r\n` +
    `Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), body]);
}
function requestOf(i: number): Buffer {
  return Buffer.from(
    `GET /images/template/screen/item-${i}.png?v=${i * 7} HTTP/1.1\r\nHost: www.example.org\r\n` +
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
      'Accept: image/avif,image/webp,*/*\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\n\r\n',
  );
}
function segments(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += SEG) out.push(buf.subarray(i, i + SEG));
  return out;
}

const requests = Array.from({ length: MESSAGES }, (_v, i) => requestOf(i));
const responses = Array.from({ length: MESSAGES }, (_v, i) => responseOf(i));
const resSegs = segments(Buffer.concat(responses));
const reqSegs = segments(Buffer.concat(requests));
const resBytes = resSegs.reduce((a, b) => a + b.length, 0);

interface Variant {
  label: string;
  bytes: number;
  msgs: number;
  fn: () => void;
  secs: number[];
}
const variants: Variant[] = [];
function time(label: string, bytes: number, msgs: number, fn: () => void): void {
  variants.push({ label, bytes, msgs, fn, secs: [] });
}
/** Trials interleave the variants (the machine is shared); report the best and the median trial. */
function runAll(trials: number): void {
  for (const v of variants) v.fn(); // warm-up
  for (let t = 0; t < trials; t++) {
    for (const v of variants) {
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < rounds; r++) v.fn();
      v.secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  for (const v of variants) {
    const sorted = [...v.secs].sort((a, b) => a - b);
    const mbps = (s: number) => ((v.bytes * rounds) / 1e6 / s).toFixed(1).padStart(7);
    const best = sorted[0];
    const median = sorted[sorted.length >> 1];
    console.log(
      `${v.label.padEnd(50)} best ${mbps(best)} MB/s  median ${mbps(median)} MB/s ${((v.msgs * rounds) / best).toFixed(0).padStart(9)} msg/s`,
    );
  }
}

let sink = 0;
const handler: LlhttpHandler = {
  onMessageBegin() {},
  onHeadersComplete(h) {
    sink += h.headers.length;
    return 0;
  },
  onBody(v) {
    sink += v.length;
  },
  onMessageComplete() {
    sink++;
    return 0;
  },
};

console.log(`pipelined keep-alive: ${MESSAGES} responses, ${resBytes} bytes in ${resSegs.length} segments, ${rounds} rounds`);
time('ours: LlhttpParser.execute (responses)', resBytes, MESSAGES, () => {
  const p = new LlhttpParser(TYPE_RESPONSE, handler, 1 << 17);
  for (const s of resSegs) p.execute(s);
  p.destroy();
});
time('llhttp-wasm package wrapper execute (responses)', resBytes, MESSAGES, () => {
  const p = pkg.createParser('RESPONSE');
  p.onHeadersComplete = () => {
    sink++;
    return 0;
  };
  p.onBody = (d) => {
    sink += d.length;
    return 0;
  };
  p.onMessageComplete = () => {
    sink++;
    return 0;
  };
  for (const s of resSegs) p.execute(s);
  p.destroy();
});
const reqBytes = reqSegs.reduce((a, b) => a + b.length, 0);
time('ours: LlhttpParser.execute (requests)', reqBytes, MESSAGES, () => {
  const p = new LlhttpParser(TYPE_REQUEST, handler, 1 << 17);
  for (const s of reqSegs) p.execute(s);
  p.destroy();
});
time('llhttp-wasm package wrapper execute (requests)', reqBytes, MESSAGES, () => {
  const p = pkg.createParser('REQUEST');
  p.onHeadersComplete = () => {
    sink++;
    return 0;
  };
  for (const s of reqSegs) p.execute(s);
  p.destroy();
});
time('HttpStream (both directions, exchanges emitted)', resBytes + reqBytes, MESSAGES, () => {
  const counters = new Counters();
  const st = createHttpStream(
    { id: 1, lastFrame: 1, ends: [{ ip: '10.0.0.1', port: 50000 }, { ip: '10.0.0.2', port: 80 }], initiatorKnown: true, midStream: false, vni: -1, tunnel: '', tunnelSource: '', source: 'bench' },
    () => {
      sink++;
    },
    counters,
  );
  let ts = 0;
  for (const s of reqSegs) st.onData(0, s, ts++);
  for (const s of resSegs) st.onData(1, s, ts++);
  st.onClose('fin', ts);
});
runAll(Number(process.argv[3] ?? 7));
if (sink === -1) console.log('unreachable');
