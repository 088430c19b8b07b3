import { ShadowtapError, EXIT_USAGE } from '../errors';
import { ByteWriter, type ByteWriterOptions } from '../sink/byte-writer';
import type { ExchangeSink } from '../sink/exchange-sink';
import { JsonlSink } from '../sink/jsonl-sink';
import { VERSION } from '../version';

export const OUTPUT_FORMATS = ['jsonl', 'pb', 'har'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** How long the long-running modes let output bytes wait for a fuller buffer (see ByteWriter). */
export const LIVE_FLUSH_MS = 1000;

/**
 * The output's byte writer (`target` '-' = stdout); binary protobuf to a terminal is refused. `opts`: a timed
 * flush (mirror, sniff: LIVE_FLUSH_MS) and who hears that the reader went away (read stops then).
 */
export function openOutputBytes(format: OutputFormat, target: string, opts: ByteWriterOptions = {}): ByteWriter {
  if (format === 'pb' && target === '-' && process.stdout.isTTY) {
    throw new ShadowtapError('CAP_ERR_USAGE', 'refusing to write binary protobuf to a terminal: add -o FILE', EXIT_USAGE);
  }
  return new ByteWriter(target, opts);
}

export function parseFormat(value: string | undefined): OutputFormat {
  const f = value ?? 'jsonl';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) {
    throw new ShadowtapError('CAP_ERR_USAGE', `--format must be one of ${OUTPUT_FORMATS.join(', ')} (got "${f}")`, EXIT_USAGE);
  }
  return f as OutputFormat;
}

/** Opens the output sink. `target` '-' means stdout. pb to a terminal is refused. `opts` as above. */
export function openOutput(format: OutputFormat, target: string, opts: ByteWriterOptions = {}): ExchangeSink {
  const w = openOutputBytes(format, target, opts);
  switch (format) {
    case 'jsonl':
      return new JsonlSink(w);
    case 'pb':
      // protobufjs (~20 ms to load) only when the format needs it.
      return new (require('../sink/protobuf-file-sink') as typeof import('../sink/protobuf-file-sink')).ProtobufFileSink(w);
    case 'har':
      return new (require('../sink/har-sink') as typeof import('../sink/har-sink')).HarSink(w, VERSION);
  }
}
