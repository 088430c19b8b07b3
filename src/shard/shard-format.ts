import type { Exchange } from '../exchange/record';
import type { DeliverySink } from '../delivery/delivery-sink';
import type { Counters } from '../observe/counters';
import { openOutputBytes, type OutputFormat } from '../cli/output-options';
import type { ByteWriterOptions } from '../sink/byte-writer';
import { JsonlSink } from '../sink/jsonl-sink';
import type { MemoryByteWriter } from '../sink/memory-byte-writer';
import { VERSION } from '../version';

/**
 * The outputs split in two for sharded `read`: a shard worker encodes each exchange into bytes
 * (exchangeEncoder), the capture thread writes those bytes in the merged order (EncodedOutput). The bytes
 * of a whole output are the same as the single-thread sinks write (JsonlSink, ProtobufFileSink, HarSink,
 * DeliverySink): the worker runs the same encoders, and HAR's document head, separators and tail and the
 * replay service's batching stay on the capture thread.
 */

/** An output format, or 'delivery': an Exchange message as the replay-service sink batches it. */
export type Encoding = OutputFormat | 'delivery';

/** `counters` takes what DeliverySink.write counts when an exchange does not encode (sink_encode_errors). */
export function exchangeEncoder(format: Encoding, out: MemoryByteWriter, counters: Counters): (ex: Exchange) => void {
  switch (format) {
    case 'delivery': {
      const { encodeExchange } = require('../delivery/frame-codec') as typeof import('../delivery/frame-codec');
      return (ex) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeExchange(ex);
        } catch {
          counters.inc('sink_encode_errors');
          return;
        }
        out.writeBytes(bytes);
      };
    }
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

/** The replay-service sink taking exchanges its own encoder (encodeExchange) made on a shard. The sink keeps
 *  what it is given while batches wait for acks, and the shard's buffer goes back to the shard: so a copy. */
export function deliveryOutput(sink: DeliverySink): EncodedOutput {
  return { writeExchange: (b) => void sink.writeEncoded(Buffer.from(b)), close: () => sink.close() };
}

/** Opens `target` ('-' = stdout) for already-encoded exchanges of `format`. */
export function openEncodedOutput(format: OutputFormat, target: string, opts: ByteWriterOptions = {}): EncodedOutput {
  const w = openOutputBytes(format, target, opts);
  if (format !== 'har') return { writeExchange: (b) => w.writeBytes(b), close: () => w.close() };
  const { HarSink } = require('../sink/har-sink') as typeof import('../sink/har-sink');
  const har = new HarSink(w, VERSION);
  return { writeExchange: (b) => har.writeEntry(b), close: () => har.close() };
}
