// The metrics endpoint: GET /metrics on the configured address, nothing else. Off unless metrics.listen is set.
import { createServer, type Server } from 'node:http';
import { parseListen } from '../../config/listen.ts';
import type { LogFn } from '../ports.ts';
import type { AgentMetrics } from './metrics.ts';

export async function serveMetrics(listen: string, metrics: AgentMetrics, log: LogFn): Promise<Server> {
  const at = parseListen(listen);
  if (!at) throw new Error(`metrics.listen: not HOST:PORT: ${listen}`);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('hanfs serves only GET /metrics here\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      (err: Error) => {
        log('warn', `metrics scrape failed: ${err.message}`, { event: 'metrics' });
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot serve metrics on ${listen}: ${err.code ?? err.message}`)));
    server.listen(at.port, at.host, () => resolve());
  });
  log('info', `metrics on http://${listen}/metrics`, { event: 'metrics' });
  return server;
}
