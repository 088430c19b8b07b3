import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ShadowtapError, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from '../errors';
import type { Exchange, Header } from '../exchange/record';
import { ByteWriter } from '../sink/byte-writer';
import type { ExchangeSink } from '../sink/exchange-sink';
import { HarSink } from '../sink/har-sink';
import { JsonlSink } from '../sink/jsonl-sink';
import { VERSION } from '../version';
import { exchangeFromProto } from '../collect/exchange-from-proto';
import { walkStore } from '../collect/read-store';
import { parseDuration } from '../delivery/units';

const HELP = `Usage: shadowtap inspect STORE-DIR [options]

Prints the exchanges a \`shadowtap collect\` store holds, in arrival order.

Options:
  -f, --format FMT           jsonl (default; the same proto3 JSON lines as \`read\`), har, or table
  -o, --output FILE          write to FILE instead of stdout
      --since T, --until T   capture time bounds: ISO 8601 (2024-05-01T12:00:00Z) or an age (15m, 2h, 7d ago)
      --host H               only exchanges whose Host header (port ignored) or server IP is H
      --path P               only requests whose path (before '?') starts with P
`;

function timeFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const age = parseDuration(v.replace(/\s*ago$/, ''));
  if (age !== undefined && /[a-z]/i.test(v)) return (Date.now() - age) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be an ISO time or an age like 2h (got "${v}")`, EXIT_USAGE);
  return t * 1000;
}

function header(list: Header[], name: string): string | undefined {
  for (const h of list) if (h.name.toLowerCase() === name) return h.value;
  return undefined;
}

function hostOf(ex: Exchange): string {
  const h = ex.request ? header(ex.request.headers, 'host') : undefined;
  if (!h) return '';
  return h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
}

/** Fixed-width table: one line per exchange. */
class TableSink implements ExchangeSink {
  constructor(private readonly out: ByteWriter) {
    out.write(['TIME'.padEnd(24), 'CLIENT'.padEnd(22), 'SERVER'.padEnd(22), 'METHOD'.padEnd(7), 'STATUS', 'REQ_B'.padStart(8), 'RES_B'.padStart(8), ' HOST PATH'].join(' ') + '\n');
  }
  write(ex: Exchange): boolean {
    const start = ex.request?.startMicros || ex.response?.startMicros || 0;
    const c = ex.connection;
    const cols = [
      (start ? new Date(Math.floor(start / 1000)).toISOString() : '-').padEnd(24),
      `${c.client.ip}:${c.client.port}`.padEnd(22),
      `${c.server.ip}:${c.server.port}`.padEnd(22),
      (ex.request?.method ?? '-').padEnd(7),
      String(ex.response?.status ?? '-').padEnd(6),
      String(ex.request?.body.length ?? 0).padStart(8),
      String(ex.response?.body.length ?? 0).padStart(8),
      ` ${hostOf(ex) || '-'} ${ex.request?.url ?? '-'}`,
    ];
    this.out.write(cols.join(' ').replace(/[\r\n]/g, ' ') + '\n');
    return true;
  }
  close(): Promise<void> {
    return this.out.close();
  }
}

export async function runInspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      since: { type: 'string' },
      until: { type: 'string' },
      host: { type: 'string' },
      path: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new ShadowtapError('CAP_ERR_USAGE', 'inspect needs exactly one STORE-DIR; try: shadowtap inspect --help', EXIT_USAGE);
  const dir = positionals[0]!;
  const format = values.format ?? 'jsonl';
  if (!['jsonl', 'har', 'table'].includes(format)) throw new ShadowtapError('CAP_ERR_USAGE', `--format must be jsonl, har or table (got "${format}")`, EXIT_USAGE);
  if (!fs.existsSync(`${dir}/segments`)) throw new ShadowtapError('CAP_ERR_INPUT', `${dir} is not a shadowtap store (no segments/ directory)`, EXIT_BAD_INPUT);
  const since = timeFlag(values.since, '--since');
  const until = timeFlag(values.until, '--until');
  const host = values.host?.toLowerCase();
  const pathPrefix = values.path;
  const out = new ByteWriter(values.output ?? '-');
  const sink: ExchangeSink = format === 'har' ? new HarSink(out, VERSION) : format === 'table' ? new TableSink(out) : new JsonlSink(out);
  for (const rec of walkStore(dir, { ...(since !== undefined ? { sinceMicros: since } : {}), ...(until !== undefined ? { untilMicros: until } : {}) })) {
    for (const m of rec.exchanges) {
      const ex = exchangeFromProto(m);
      const t = ex.request?.startMicros || ex.response?.startMicros || 0;
      if (since !== undefined && t < since) continue;
      if (until !== undefined && t > until) continue;
      if (host !== undefined && hostOf(ex).toLowerCase() !== host && ex.connection.server.ip !== host) continue;
      if (pathPrefix !== undefined && !(ex.request?.url ?? '').split('?')[0]!.startsWith(pathPrefix)) continue;
      sink.write(ex);
      if (out.closedByPeer) break;
    }
    if (out.closedByPeer) break;
  }
  await sink.close();
  return EXIT_OK;
}
