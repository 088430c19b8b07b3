import type { Exchange } from '../exchange/record';
import { openOutputBytes, type OutputFormat } from '../cli/output-options';
import { JsonlSink } from '../sink/jsonl-sink';
import type { MemoryByteWriter } from '../sink/memory-byte-writer';
import { VERSION } from '../version';

/**
 * The output formats split in two for sharded `read`: a shard worker encodes each exchange into bytes
 * (exchangeEncoder), the capture thread writes those bytes in the merged order (EncodedOutput). The bytes
 * of a whole output are the same as the single-thread sinks write (JsonlSink, ProtobufFileSink, HarSink):
 * the worker runs the same encoders, and HAR's document head, separators and tail stay on the capture thread.
 */
export function exchangeEncoder(format: OutputFormat, out: MemoryByteWriter): (ex: Exchange) => void {
  switch (format) {
    case 'jsonl': {
      const sink = new JsonlSink(out);
      return (ex) => sink.write(ex);
    }
    case 'pb': {
      const { encodeExchangeDelimited } = require('../sink/codec') as typeof import('../sink/codec');
      return (ex) => out.writeBytes(encodeExchangeDelimited(ex));
    }
    case 'har': {
      const { harEntry } = require('../sink/har-sink') as typeof import('../sink/har-sink');
      return (ex) => out.writeUtf8(JSON.stringify(harEntry(ex)));
    }
  }
}

/** Where the capture thread writes encoded exchanges, one at a time, in output order. */
export interface EncodedOutput {
  writeExchange(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** Opens `target` ('-' = stdout) for already-encoded exchanges of `format`. */
export function openEncodedOutput(format: OutputFormat, target: string): EncodedOutput {
  const w = openOutputBytes(format, target);
  if (format !== 'har') return { writeExchange: (b) => w.writeBytes(b), close: () => w.close() };
  const { HarSink } = require('../sink/har-sink') as typeof import('../sink/har-sink');
  const har = new HarSink(w, VERSION);
  return { writeExchange: (b) => har.writeEntry(b), close: () => har.close() };
}
