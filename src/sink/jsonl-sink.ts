import type { Exchange, HttpMessageCommon } from '../exchange/record';
import { exchangeToProtoJson } from '../exchange/proto-json';
import type { ExchangeSink } from './exchange-sink';
import { ByteWriter } from './byte-writer';

/**
 * JSON lines: one proto3-canonical-JSON Exchange per line.
 * Bodies are the bulk of the bytes: they are left out of JSON.stringify (which would scan the
 * base64 text for characters to escape; base64 has none) and spliced in as `"body":"<base64>"`
 * at the end of their message object.
 */
export class JsonlSink implements ExchangeSink {
  constructor(private readonly out: ByteWriter) {}

  write(ex: Exchange): boolean {
    const obj = exchangeToProtoJson(ex, false);
    const reqBody = ex.request?.body;
    const resBody = ex.response?.body;
    if (!reqBody?.length && !resBody?.length) {
      this.out.write(JSON.stringify(obj) + '\n');
      return true;
    }
    const parts: string[] = ['{'];
    let first = true;
    for (const key of Object.keys(obj)) {
      parts.push(first ? '' : ',', JSON.stringify(key), ':');
      first = false;
      const msg: HttpMessageCommon | undefined = key === 'request' ? ex.request : key === 'response' ? ex.response : undefined;
      const json = JSON.stringify(obj[key]);
      if (msg && msg.body.length) {
        // json is a non-empty object "{...}" (a message with a body always has other fields too).
        parts.push(json.slice(0, -1), json.length > 2 ? ',"body":"' : '"body":"', msg.body.toString('base64'), '"}');
      } else {
        parts.push(json);
      }
    }
    parts.push('}\n');
    this.out.write(parts.join(''));
    return true;
  }

  close(): Promise<void> {
    return this.out.close();
  }
}
