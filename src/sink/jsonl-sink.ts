import type { Exchange } from '../exchange/record';
import { exchangeToProtoJson } from '../exchange/proto-json';
import type { ExchangeSink } from './exchange-sink';
import { ByteWriter } from './byte-writer';

/** JSON lines: one proto3-canonical-JSON Exchange per line. */
export class JsonlSink implements ExchangeSink {
  constructor(private readonly out: ByteWriter) {}
  write(ex: Exchange): boolean {
    this.out.write(JSON.stringify(exchangeToProtoJson(ex)) + '\n');
    return true;
  }
  close(): Promise<void> {
    return this.out.close();
  }
}
