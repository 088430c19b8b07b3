import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { packageRoot } from '../package-root';
import type { Exchange } from '../exchange/record';

/**
 * Protobuf codec for the exchange record (proto/shadowtap/v1/exchange.proto), loaded once.
 * Framing: each message is preceded by its length as a base-128 varint (protobuf's
 * "length-delimited" framing, as writeDelimitedTo in the Java/C++ libraries).
 */
let exchangeType: protobuf.Type | undefined;

export function protoRoot(): protobuf.Root {
  return protobuf.loadSync(path.join(packageRoot(), 'proto', 'shadowtap', 'v1', 'exchange.proto'));
}

function type(): protobuf.Type {
  if (!exchangeType) exchangeType = protoRoot().lookupType('shadowtap.v1.Exchange');
  return exchangeType;
}

/** Encodes one exchange with its varint length prefix. The returned bytes are owned by the caller. */
export function encodeExchangeDelimited(ex: Exchange): Uint8Array {
  return type().encodeDelimited(ex as unknown as Record<string, unknown>).finish();
}

/** Decodes every length-delimited Exchange in `buf` into plain objects (canonical JSON form). */
export function decodeExchangesDelimited(buf: Uint8Array): Array<Record<string, unknown>> {
  const t = type();
  const reader = protobuf.Reader.create(buf);
  const out: Array<Record<string, unknown>> = [];
  while (reader.pos < reader.len) {
    const msg = t.decodeDelimited(reader);
    out.push(t.toObject(msg, { longs: String, bytes: String, defaults: false }) as Record<string, unknown>);
  }
  return out;
}
