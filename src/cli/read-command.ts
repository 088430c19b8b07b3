import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline, type FrameConsumer, type PipelineTotals } from '../pipeline';
import { Counters } from '../observe/counters';
import { readCaptureInput, type Pace } from '../source/file-source';
import { CaptureError, type CaptureEnd } from '../source/capture-reader';
import { ShadowtapError, EXIT_BAD_INPUT, EXIT_OK, EXIT_TRUNCATED_INPUT, EXIT_USAGE } from '../errors';
import { openOutput, parseFormat, type OutputFormat } from './output-options';
import { REDACTION_HELP, redactingSink, redactionFromFlags, type Redaction } from './redaction-options';
import { parseReadThreads, parseRedactWorkers } from '../config/values';
import type { DecoderOptions } from '../decode/decoder';
import { ShardedRead } from '../shard/sharded-read';
import { deliveryOutput, openEncodedOutput, type EncodedOutput, type Encoding } from '../shard/shard-format';
import { formatSummary, summaryObject } from '../observe/summary';
import { ProgressBar } from '../observe/progress-bar';
import type { Exchange } from '../exchange/record';
import type { Frame } from '../source/frame';
import { dedupFrameHandler } from '../dedup/index';
import { SINK_HELP, SINK_OPTIONS } from './sink-options';
import { attachRemoteSink, openReadRemote } from './attach-sink';

const HELP = () => `Usage: shadowtap read FILE|- [options]

Reads a pcap (µs or ns, either byte order) or pcapng capture, or '-' for standard input, and writes the
HTTP exchanges it holds, redacted, to stdout or -o FILE. A summary goes to stderr.

Options:
  -o, --output FILE          write exchanges to FILE instead of stdout
  -f, --format FMT           jsonl (default; proto3 JSON, one exchange a line), pb (length-delimited
                             protobuf shadowtap.v1.Exchange), har (HAR 1.2)
      --stats FMT            text (default), json (one JSON object on stderr) or none
      --progress / --no-progress   progress bar on stderr (default: when stderr is a terminal and FILE > 32 MB)
      --threads N|auto       split the connections between N threads that reassemble, parse, redact and
                             encode; the output is the same as with 1 (auto = cores - 1, at most 8;
                             1 on 1-2 cores; 1 with --redact-workers)
${REDACTION_HELP}      --dedup                drop second copies of packets seen on two interfaces (captures of tcpdump -i any)
      --vxlan-port N         UDP port carrying VXLAN (repeatable; default 4789)
      --geneve-port N        UDP port carrying GENEVE (repeatable; default 6081)

${SINK_HELP}
Exit status: 0 done; 1 usage or configuration error; 2 input unreadable, empty or not a capture;
3 input cut short inside a record (everything before the cut was written); 4 output failed;
5 a --threads worker thread failed.
`;

function ports(values: string[] | undefined, flag: string): number[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be a port 1-65535 (got "${v}")`, EXIT_USAGE);
    return n;
  });
}

export async function runRead(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
      stats: { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      'redact-rules': { type: 'string' },
      'redact-key-file': { type: 'string' },
      'no-redact': { type: 'boolean' },
      'redact-workers': { type: 'string' },
      threads: { type: 'string' },
      'vxlan-port': { type: 'string', multiple: true },
      'geneve-port': { type: 'string', multiple: true },
      dedup: { type: 'boolean' },
      ...SINK_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP());
    return EXIT_OK;
  }
  if (positionals.length !== 1) {
    throw new ShadowtapError('CAP_ERR_USAGE', 'read needs exactly one FILE (or - for stdin); try: shadowtap read --help', EXIT_USAGE);
  }
  const input = positionals[0]!;
  const format = parseFormat(values.format);
  const stats = values.stats ?? 'text';
  if (!['text', 'json', 'none'].includes(stats)) throw new ShadowtapError('CAP_ERR_USAGE', `--stats must be text, json or none (got "${stats}")`, EXIT_USAGE);
  const warn = (msg: string): void => {
    process.stderr.write(`shadowtap: ${msg}\n`);
  };

  let size: number | undefined;
  if (input !== '-') {
    try {
      const st = fs.statSync(input);
      if (st.isDirectory()) throw new ShadowtapError('CAP_ERR_INPUT', `${input} is a directory, not a capture file`, EXIT_BAD_INPUT);
      size = st.size;
    } catch (err) {
      if (err instanceof ShadowtapError) throw err;
      throw new ShadowtapError('CAP_ERR_INPUT', `cannot read ${input}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, EXIT_BAD_INPUT);
    }
  }

  const counters = new Counters();
  const redaction = redactionFromFlags({ noRedact: !!values['no-redact'], rulesFile: values['redact-rules'], keyFile: values['redact-key-file'] }, warn, counters);
  const output = values.output ?? '-';
  const threads = readThreads(values.threads, values['redact-workers']);
  const sourceName = input === '-' ? 'file:-' : `file:${path.basename(input)}`;
  const vxlanPorts = ports(values['vxlan-port'], '--vxlan-port');
  const genevePorts = ports(values['geneve-port'], '--geneve-port');
  const decoder = { ...(vxlanPorts ? { vxlanPorts } : {}), ...(genevePorts ? { genevePorts } : {}) };
  const outputGone = { closed: false };
  const setup: ReadSetup = { values, input, format, output, sourceName, decoder, redaction, counters, warn, outputGone };
  const run = threads > 1 ? shardedRun(threads, setup) : singleThreadRun(setup);
  // Between chunks of input: once the output's reader went away (`read big.pcap | head`), stop reading.
  const pace = async (): Promise<void> => {
    if (outputGone.closed) throw OUTPUT_GONE;
    await (run.pace ? run.pace() : new Promise<void>((resolve) => setImmediate(resolve)));
  };
  // --dedup: drop the second copy of a packet seen on two interfaces (tcpdump -i any); counted as duplicate_suppressed.
  const onFrame = values.dedup ? dedupFrameHandler(run.consumer) : (f: Frame): void => run.consumer.onFrame(f);
  const showProgress = values['no-progress'] ? false : values.progress ?? (!!process.stderr.isTTY && (size ?? 0) > 32 * 1024 * 1024);
  const bar = showProgress ? new ProgressBar(process.stderr, size) : undefined;
  const weirds = run.consumer.counters;
  const started = process.hrtime.bigint();
  let end: CaptureEnd;
  let status = EXIT_OK;
  try {
    end = await readCaptureInput(
      input,
      { onFrame, onWeird: (name) => weirds.inc(name) },
      bar ? (done, total) => bar.update(done, total) : undefined,
      pace,
    );
  } catch (err) {
    bar?.done();
    if (err === OUTPUT_GONE) {
      await run.abort().catch(() => undefined);
      warn(`${OUTPUT_GONE_TEXT}: stopped reading ${input}; exchanges after that point were not written`);
      return EXIT_OK;
    }
    if (err instanceof CaptureError) {
      // Fatal format error: whatever came before it has been processed; flush it, then report. A failure
      // while flushing is said too, but the input's error is the one the exit status reports.
      try {
        await run.end();
      } catch (endErr) {
        warn(endErr instanceof Error ? endErr.message : String(endErr));
      }
      const where = err.offset !== undefined ? ` (at byte offset ${err.offset})` : '';
      throw new ShadowtapError(err.code, `${input}: ${err.message}${where}`, EXIT_BAD_INPUT);
    }
    await run.abort();
    throw err;
  }
  bar?.done();
  await run.end();
  if (outputGone.closed) warn(`${OUTPUT_GONE_TEXT}: exchanges after that point were not written`);
  if (end.truncatedAt) {
    const t = end.truncatedAt;
    warn(`warning: ${input} is cut short: the record at byte offset ${t.offset} needs ${t.need} bytes but only ${t.have} are there; everything before it was processed`);
    status = EXIT_TRUNCATED_INPUT;
  } else if (end.compressedCut) {
    warn(`warning: ${input} is cut short: its gzip stream ends early, after ${end.compressedCut.offset} decompressed bytes; everything before was processed`);
    status = EXIT_TRUNCATED_INPUT;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (stats === 'json') {
    process.stderr.write(JSON.stringify(summaryObject(input, end, run.consumer, seconds)) + '\n');
  } else if (stats === 'text') {
    process.stderr.write(formatSummary(input, end, run.consumer, seconds));
  }
  return status;
}

/** Thrown by the pace between chunks once the output's reader went away. */
const OUTPUT_GONE = new Error('output closed by its reader');
const OUTPUT_GONE_TEXT = 'the output was closed by its reader (broken pipe)';

/** One way of running the pipeline over the input: what the reader feeds, how it paces, how it ends. */
interface ReadRun {
  consumer: FrameConsumer & PipelineTotals;
  pace?: Pace;
  /** End of input: flush open exchanges as partial, write everything, close the output. */
  end(): Promise<void>;
  /** After a failure that is not the input's: stop without waiting for the rest. */
  abort(): Promise<void>;
}

function readThreads(flag: string | undefined, redactWorkersFlag: string | undefined): number {
  const threads = parseReadThreads(flag, '--threads');
  if (threads > 1 && redactWorkersFlag !== undefined) {
    // A number the user gave (not auto) next to --redact-workers is a conflict worth a word.
    if (flag !== undefined && flag !== 'auto') {
      throw new ShadowtapError('CAP_ERR_USAGE', '--threads and --redact-workers do not go together: with --threads, each thread redacts its own connections', EXIT_USAGE);
    }
    return 1;
  }
  return threads;
}

/** What both ways of running need: the parsed flags and what was built from them. */
interface ReadSetup {
  values: Record<string, unknown>;
  input: string;
  format: OutputFormat;
  output: string;
  sourceName: string;
  decoder: Partial<DecoderOptions>;
  redaction: Redaction | null;
  counters: Counters;
  warn: (msg: string) => void;
  /** The local output's reader went away (`| head`): set by the output, read between chunks of input. */
  outputGone: { closed: boolean };
}

/** With --sink and no -o, exchanges go only to the replay service (no stdout copy). */
function wantsLocalOutput(values: Record<string, unknown>): boolean {
  return values.sink === undefined || values.output !== undefined;
}

function singleThreadRun({ values, input, format, output, sourceName, decoder, redaction, counters, warn, outputGone }: ReadSetup): ReadRun {
  const redactWorkers = parseRedactWorkers(values['redact-workers'], '--redact-workers');
  const local = wantsLocalOutput(values) ? openOutput(format, output, { onPeerClosed: () => (outputGone.closed = true) }) : null;
  const sink = redactingSink(attachRemoteSink(values, input, local, counters, warn) ?? openOutput(format, output), redaction, redactWorkers, counters, warn);
  const pipeline = new Pipeline({ source: sourceName, counters, decoder }, (ex: Exchange) => {
    sink.write(ex);
  });
  return {
    consumer: pipeline,
    end: async () => {
      pipeline.finish('end_of_input');
      await sink.close();
    },
    abort: () => sink.close(),
  };
}

function shardedRun(threads: number, { values, input, format, output, sourceName, decoder, redaction, counters, warn, outputGone }: ReadSetup): ReadRun {
  const outputs: Array<{ encoding: Encoding; output: EncodedOutput }> = [];
  if (wantsLocalOutput(values)) {
    outputs.push({ encoding: format, output: openEncodedOutput(format, output, { onPeerClosed: () => (outputGone.closed = true) }) });
  }
  const remote = openReadRemote(values, input, counters, warn);
  if (remote) outputs.push({ encoding: 'delivery', output: deliveryOutput(remote) });
  const closeAll = async (): Promise<void> => {
    await Promise.all(outputs.map((o) => o.output.close()));
  };
  const sharded = new ShardedRead({ shards: threads, source: sourceName, decoder, outputs, counters, redact: redaction && { config: redaction.config, key: redaction.key } });
  return {
    consumer: sharded,
    pace: () => sharded.pace(),
    end: async () => {
      try {
        await sharded.finish();
      } finally {
        await closeAll();
      }
    },
    abort: async () => {
      await sharded.abort();
      await closeAll();
    },
  };
}
