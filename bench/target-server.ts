// The no-op HTTP target the benchmarks point jobs at, run as its own process so the
// benchmark's bookkeeping never delays a request. It answers 200 with an empty body and
// remembers, per request, when it arrived and what tock said about it:
// X-Tock-Scheduled-At, Idempotency-Key and X-Tock-Job. GET /__dump?from=N returns the
// records from the N-th on, so a dump whose answer was lost can be asked for again. It
// prints its port on stdout once listening.

import http from 'node:http';

export interface Arrival {
  /** Wall-clock arrival, ms since the epoch, sub-millisecond. */
  at: number;
  /** X-Tock-Scheduled-At as ms since the epoch, or null when the caller is not tock. */
  scheduledAt: number | null;
  key: string | null;
  job: string | null;
}

const origin = performance.timeOrigin;
const arrivals: Arrival[] = [];

const server = http.createServer((req, res) => {
  const at = origin + performance.now();
  if (req.url?.startsWith('/__dump')) return dump(res, Number(new URL(req.url, 'http://x').searchParams.get('from') ?? 0));
  const scheduled = req.headers['x-tock-scheduled-at'];
  arrivals.push({
    at,
    scheduledAt: typeof scheduled === 'string' ? Date.parse(scheduled) : null,
    key: header(req.headers['idempotency-key']),
    job: header(req.headers['x-tock-job']),
  });
  req.resume();
  res.writeHead(200, { 'content-length': '0' });
  res.end();
});

function header(v: string | string[] | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function dump(res: http.ServerResponse, from: number): void {
  const body = JSON.stringify(arrivals.slice(from));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
