import { Counters } from '../../../src/observe/counters';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { Decoder, ipToString, type DecoderOptions } from '../../../src/decode/decoder';
import { frameOf } from './fixtures';

export interface DecodeResult {
  status: string;
  out: DecodedPacket;
  counters: Counters;
  decoder: Decoder;
}

/** Decodes one packet with a fresh decoder. */
export function decodeOne(bytes: Buffer, linkType: number, opts: Partial<DecoderOptions> = {}): DecodeResult {
  const counters = new Counters();
  const decoder = new Decoder(opts, counters);
  const out = new DecodedPacket();
  const status = decoder.decode(frameOf(bytes, linkType), out);
  return { status, out, counters, decoder };
}

export function srcText(out: DecodedPacket): string {
  return ipToString(out.buf, out.srcAddrOff, out.ipVersion);
}

export function dstText(out: DecodedPacket): string {
  return ipToString(out.buf, out.dstAddrOff, out.ipVersion);
}

export function payloadText(out: DecodedPacket): string {
  return out.buf.toString('latin1', out.payloadOff, out.payloadOff + out.payloadLen);
}
