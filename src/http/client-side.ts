/**
 * Which direction of a connection is the HTTP client.
 *
 * 1. The SYN was seen (meta.initiatorKnown): direction 0 initiated, so it is the client.
 * 2. Else the first bytes seen: a response ("HTTP/") marks the server, a request line start
 *    (an upper-case token method, a space and a target) marks the client.
 * 3. Else the ports: a well-known HTTP port marks the server; otherwise the lower port is the server.
 */
import type { ConnectionMeta } from '../flow/connection-meta';
import type { Dir } from '../reassembly/stream-sink';

const WELL_KNOWN_HTTP_PORTS = new Set([80, 8080, 8000, 8008, 8081, 8888, 3000, 5000, 9000, 443, 8443]);

const RESPONSE_START = /^HTTP\//;
/** An upper-case token method (all registered methods are), a space, then the start of a target. */
const REQUEST_START = /^[A-Z][A-Z0-9_-]{0,31} [^ \r\n]/;

/** 'request', 'response' or 'unknown' from the first bytes of a direction. `data` is borrowed. */
export function classifyFirstBytes(data: Buffer): 'request' | 'response' | 'unknown' {
  const head = data.toString('latin1', 0, Math.min(data.length, 40));
  if (RESPONSE_START.test(head)) return 'response';
  if (REQUEST_START.test(head)) return 'request';
  return 'unknown';
}

/** The client direction, from the first data seen (`dir`, `data`) or, without it, from the ports. */
export function clientDirOf(meta: ConnectionMeta, dir: Dir | -1, data: Buffer | null): Dir {
  if (meta.initiatorKnown) return 0;
  if (dir !== -1 && data !== null) {
    const kind = classifyFirstBytes(data);
    if (kind === 'request') return dir;
    if (kind === 'response') return dir === 0 ? 1 : 0;
  }
  const p0 = meta.ends[0].port;
  const p1 = meta.ends[1].port;
  const w0 = WELL_KNOWN_HTTP_PORTS.has(p0);
  const w1 = WELL_KNOWN_HTTP_PORTS.has(p1);
  if (w0 !== w1) return w0 ? 1 : 0;
  if (p0 !== p1) return p0 < p1 ? 1 : 0;
  return 0;
}
