import * as http from 'node:http';
import type * as net from 'node:net';
import type { Logger } from 'pino';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import type { Metrics } from './metrics';

/** Reasons for not being ready, one short phrase each; empty = ready. */
export interface Readiness {
  /** The receive path: /readyz. */
  notReady: () => string[];
  /** The receive path and the sink (delivering, not spooling): /readyz/sink. */
  sinkNotHealthy: () => string[];
}

/**
 * One HTTP port for operations: GET /healthz (200 while the process runs its loop), /readyz (200
 * while `notReady()` is empty, else 503 with "not ready: " and the reasons joined by "; "), /readyz/sink
 * (the same with the sink's health added), /metrics (Prometheus). Nothing captured is ever served here.
 */
export async function startHttpEndpoints(host: string, port: number, readiness: Readiness, metrics: Metrics, log: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz' || path === '/readyz/sink') {
      const why = path === '/readyz' ? readiness.notReady() : readiness.sinkNotHealthy();
      if (why.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${why.join('; ')}\n`);
    } else if (path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: Error) => {
          log.error({ err: err.message }, 'metrics rendering failed');
          res.writeHead(500).end();
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await listen(server, host, port, 'HTTP port (--http-port)');
  return server;
}

/** Listens or fails with one clear line (port in use, permission, bad address). */
export function listen(server: net.Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)' : err.message;
      reject(new ShadowtapError('CAP_ERR_LISTEN', `cannot listen on ${host}:${port} for the ${what}: ${why}`, EXIT_USAGE));
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.removeListener('error', onError);
      resolve();
    });
    server.listen(port, host);
  });
}
