import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from '../shared/logger';
import { expressServerClasses } from '../http/express-server';
import { type HealthDeps, opsRoutes } from './health';
import { requestLogger } from './request-log';

export interface OpsServer {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Health and metrics on a port of their own (config `ops.port`), plain HTTP,
 * meant for the load balancer and Prometheus on an internal network.
 */
export async function startOpsServer(deps: HealthDeps & { logger: Logger }, host: string, port: number, metrics: boolean): Promise<OpsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false);
  app.use(requestLogger(deps.logger.child({ listener: 'ops' })));
  app.use(opsRoutes(deps, { detailed: true, metrics }));
  app.use((_req, res) => {
    res.status(404).json({ status: 404, error: 'not found' });
  });
  const server = http.createServer(expressServerClasses(app), app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
