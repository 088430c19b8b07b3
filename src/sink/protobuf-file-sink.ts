import type { Exchange } from '../exchange/record';
import type { ExchangeSink } from './exchange-sink';
import { encodeExchangeDelimited } from './codec';
import type { ByteOut } from './byte-writer';

/** Length-delimited protobuf file: varint length + shadowtap.v1.Exchange, repeated. */
export class ProtobufFileSink implements ExchangeSink {
  constructor(private readonly out: ByteOut) {}
  write(ex: Exchange): boolean {
    this.out.write(Buffer.from(encodeExchangeDelimited(ex)));
    return true;
  }
  close(): Promise<void> {
    return this.out.close();
  }
}
