// The daemon's HTTP side (--listen): /metrics, /healthz and the read-only /api/v1/. Loaded
// only when --listen is given, so neither this module nor prom-client costs a `tock list` or
// a daemon without it anything. GET and HEAD only: nothing served changes anything.

import http from 'node:http';
import { TockError, usageError } from '../errors.js';
import type { Backend } from '../store/backend.js';
import { StoreError } from '../store/backend.js';
import type { Logger } from '../daemon/log.js';
import { describe } from '../daemon/context.js';
import { apiDocument } from './api.js';
import { Health } from './health.js';
import type { ListenAddress } from './listen.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Observer } from './observer.js';

export interface ObserveServer {
  /** For the daemon's options: its roles report here. */
  observer: Observer;
  /** The store to read, once it is open (until then /healthz and /api/v1/ answer 503). */
  attach(backend: Backend | undefined): void;
  /** Where it listens, the port chosen if 0 was asked for. */
  address: string;
  close(): Promise<void>;
}

/** Binds (a port in use or an address not of this machine: exit 2) and serves until close(). */
export async function startServer(where: ListenAddress, log: Logger): Promise<ObserveServer> {
  let backend: Backend | undefined;
  const metrics = await createMetrics(async () => {
    if (!backend) throw new StoreError('the store is not open yet', true);
    return backend.outboxStats();
  });
  const health = new Health();
  const server = http.createServer((req, res) => {
    serve(req, res, backend, metrics, health).catch((err) => reply(res, 500, { error: describe(err) }, req.method === 'HEAD'));
  });
  await bind(server, where);
  const port = (server.address() as { port: number }).port;
  const address = where.text.replace(/:\d+$/, `:${port}`);
  log('listening', `http://${address}/metrics, /healthz and /api/v1/${where.loopback ? '' : ' (not loopback: reachable from other machines)'}`);
  return {
    observer: {
      ...metrics.observer,
      turned(began, error) {
        health.turned(began, error);
        if (error instanceof StoreError) metrics.storeError();
      },
    },
    attach: (b) => (backend = b),
    address,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function bind(server: http.Server, where: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use'
          : err.code === 'EADDRNOTAVAIL'
            ? 'no interface of this machine has that address'
            : err.code === 'EACCES'
              ? 'permission denied (a port below 1024 needs privileges)'
              : err.message;
      reject(usageError(`--listen ${where.text}: ${why}`));
    });
    server.listen({ host: where.host, port: where.port }, () => resolve());
  });
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, backend: Backend | undefined, metrics: Metrics, health: Health) {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    return reply(res, 405, { error: `${req.method} is not allowed: the API is read-only (GET, HEAD)` }, false);
  }
  const url = new URL(req.url ?? '/', 'http://tock.invalid');
  const now = Date.now();
  if (url.pathname === '/healthz') {
    const h = await health.check(backend, now, metrics.storeError);
    return reply(res, h.status, h.body, head);
  }
  if (!backend) return reply(res, 503, { error: 'starting: the store is not open yet' }, head);
  try {
    if (url.pathname === '/metrics') {
      const text = await metrics.scrape(() => backend.jobTotals());
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      return void res.end(head ? undefined : text);
    }
    if (url.pathname.startsWith('/api/v1/')) return reply(res, 200, await apiDocument(backend, url.pathname.slice('/api/v1/'.length), url.searchParams, now), head);
    return reply(res, 404, { error: `no such path: ${url.pathname} (see /metrics, /healthz, /api/v1/)` }, head);
  } catch (err) {
    return reply(res, statusOf(err), { error: describe(err) }, head);
  }
}

function statusOf(err: unknown): number {
  if (!(err instanceof TockError)) return 500;
  if (err.kind === 'store') return 503;
  if (err.kind === 'not_found') return 404;
  return err.kind === 'usage' || err.kind === 'validation' ? 400 : 500;
}

function reply(res: http.ServerResponse, status: number, body: unknown, head: boolean | undefined): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}
