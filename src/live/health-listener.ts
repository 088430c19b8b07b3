import * as net from 'node:net';
import { listen } from './http-endpoints';

/**
 * The TCP port a Network or Gateway Load Balancer health-checks (AWS: TCP health checks succeed when
 * the connection is accepted). Connections are accepted only while `ready()`; otherwise they are
 * reset at once so the load balancer marks the target unhealthy. Accepted connections are closed
 * straight away: nothing is read from or written to them.
 */
export async function startHealthListener(host: string, port: number, ready: () => boolean): Promise<net.Server> {
  const server = net.createServer((sock) => {
    if (ready()) sock.end();
    else sock.resetAndDestroy();
  });
  server.on('error', () => {
    /* accept errors (EMFILE, ...) are transient; the listener keeps running */
  });
  await listen(server, host, port, 'load-balancer health check port (--health-port)');
  return server;
}
