import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execute } from '../src/exec/index.js';
import { parseRetryAfter, runHttp } from '../src/exec/http.js';
import { IDLE_MS } from '../src/exec/exchange.js';
import { VERSION, type HttpTarget } from '../src/types.js';
import { MB, context, deadPort, measureRss, startServer, tempDir, type TestServer } from './helpers/exec-fixtures.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const seen: Seen[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
let server: TestServer;

before(async () => {
  server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const pathname = new URL(req.url!, 'http://x').pathname;
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const route = routes.get(pathname);
      if (route) return route(req, res);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route');
    });
  });
});
afterAll(() => server.close());

const never = new AbortController().signal;
const get = (path: string, extra: Partial<HttpTarget> = {}): HttpTarget => ({
  kind: 'http',
  url: `${server.url}${path}`,
  method: 'GET',
  headers: {},
  ...extra,
});
const reply = (status: number, body = '', headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) =>
  res.writeHead(status, headers).end(body);

routes.set('/ok', reply(200, 'all good'));
routes.set('/created', reply(201, 'made'));
routes.set('/status', (req, res) => {
  const status = Number(new URL(req.url!, 'http://x').searchParams.get('code'));
  res.writeHead(status).end(`status ${status}`);
});
routes.set('/busy', reply(429, 'slow down', { 'retry-after': '7' }));
routes.set('/busy-long', reply(503, '', { 'retry-after': '3600' }));
routes.set('/busy-date', (_req, res) =>
  res.writeHead(503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }).end(),
);
routes.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
routes.set('/moved', (_req, res) => res.writeHead(301, { location: '/ok' }).end());
routes.set('/silent', () => {});
routes.set('/trickle', (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('.'), 50);
  res.on('close', () => clearInterval(timer));
});
routes.set('/huge', async (_req, res) => {
  const chunk = Buffer.alloc(64 * 1024, 'y');
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  for (let sent = 0; sent < 300 * MB; sent += chunk.length) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    if (res.destroyed) return;
  }
  res.end('END');
});

test('sends method, body, job headers (expanded) and tock headers that a job cannot override', async () => {
  const ctx = context({ env: { TOKEN: 't0k', ID: '17' } });
  const target = get('/ok?id=${ID}', {
    method: 'POST',
    headers: {
      Authorization: 'Bearer ${TOKEN}',
      'X-Custom': 'plain',
      'idempotency-key': 'mine',
      'User-Agent': 'curl/8',
      'Content-Type': 'application/json',
    },
    body: '{"token":"${TOKEN}"}',
  });
  seen.length = 0;
  const r = await runHttp(target, ctx, never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.httpStatus, 200);
  assert.equal(r.output, 'all good');
  assert.equal(r.outputBytes, 8);
  const [req] = seen;
  assert.equal(req!.method, 'POST');
  assert.equal(req!.url, '/ok?id=17');
  assert.equal(req!.body, '{"token":"t0k"}');
  assert.equal(req!.headers['authorization'], 'Bearer t0k');
  assert.equal(req!.headers['x-custom'], 'plain');
  assert.equal(req!.headers['content-type'], 'application/json');
  assert.equal(req!.headers['idempotency-key'], 'nightly-report@2025-03-01T02:30:00.000Z');
  assert.equal(req!.headers['user-agent'], `tock/${VERSION}`);
  assert.equal(req!.headers['x-tock-job'], 'nightly-report');
  assert.equal(req!.headers['x-tock-attempt'], '2');
  assert.equal(req!.headers['x-tock-scheduled-at'], '2025-03-01T02:30:00.000Z');
});

test('2xx succeeds; with expect, exactly the listed statuses do', async () => {
  assert.equal((await runHttp(get('/created'), context(), never)).outcome, 'succeeded');
  assert.equal((await runHttp(get('/created', { expect: [201] }), context(), never)).outcome, 'succeeded');
  const notListed = await runHttp(get('/ok', { expect: [201, 202] }), context(), never);
  assert.equal(notListed.outcome, 'failed');
  assert.equal(notListed.retryable, false);
  assert.equal(notListed.error, 'HTTP 200 OK, expected 201 or 202 (not retried)');
  const expected404 = await runHttp(get('/missing', { expect: [404] }), context(), never);
  assert.equal(expected404.outcome, 'succeeded');
  assert.equal(expected404.httpStatus, 404);
});

test('404 is permanent and keeps the body', async () => {
  const r = await runHttp(get('/missing'), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, false);
  assert.equal(r.httpStatus, 404);
  assert.equal(r.error, 'HTTP 404 Not Found (not retried)');
  assert.equal(r.output, 'no such route');
});

test('408, 429 and 5xx are retryable; other 4xx and unfollowed 3xx are not', async () => {
  for (const [code, retryable] of [[408, true], [429, true], [500, true], [503, true], [599, true], [400, false], [401, false], [410, false], [304, false]] as const) {
    const r = await runHttp(get(`/status?code=${code}`), context(), never);
    assert.equal(r.outcome, 'failed', `status ${code}`);
    assert.equal(r.retryable, retryable, `status ${code}`);
    assert.equal(r.httpStatus, code);
  }
  const r = await runHttp(get('/status?code=503'), context(), never);
  assert.equal(r.error, 'HTTP 503 Service Unavailable');
  assert.equal(r.retryAfterMs, undefined);
});

test('Retry-After in seconds or as an HTTP-date, capped at the maximum backoff', async () => {
  const seconds = await runHttp(get('/busy'), context(), never);
  assert.equal(seconds.retryable, true);
  assert.equal(seconds.error, 'HTTP 429 Too Many Requests');
  assert.equal(seconds.retryAfterMs, 7_000);
  const capped = await runHttp(get('/busy-long'), context({ maxRetryAfterMs: 60_000 }), never);
  assert.equal(capped.retryAfterMs, 60_000);
  const dated = await runHttp(get('/busy-date'), context(), never);
  assert.ok(dated.retryAfterMs! > 20_000 && dated.retryAfterMs! <= 30_000, String(dated.retryAfterMs));
  const datedCapped = await runHttp(get('/busy-date'), context({ maxRetryAfterMs: 5_000 }), never);
  assert.equal(datedCapped.retryAfterMs, 5_000);
});

test('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1);
  assert.equal(parseRetryAfter(null, now, 1e9), undefined);
  assert.equal(parseRetryAfter(' 120 ', now, 1e9), 120_000);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:01:00 GMT', now, 1e9), 60_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now, 1e9), 0);
  assert.equal(parseRetryAfter('soon', now, 1e9), undefined);
  assert.equal(parseRetryAfter('-5', now, 1e9), undefined);
  assert.equal(parseRetryAfter('600', now, 1_000), 1_000);
});

test('connection refused is retryable and names the address', async () => {
  const port = await deadPort();
  const r = await runHttp(get('/', { url: `http://127.0.0.1:${port}/` }), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, true);
  assert.equal(r.httpStatus, undefined);
  assert.equal(r.error, `connection refused (ECONNREFUSED 127.0.0.1:${port})`);
});

test('a server that never answers times out', async () => {
  const started = Date.now();
  const r = await runHttp(get('/silent'), context({ timeoutMs: 500 }), never);
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'timed out after 500ms');
  assert.ok(Date.now() - started >= 500);
});

test('a body trickling in byte by byte still times out, keeping what arrived', async () => {
  const started = Date.now();
  const r = await runHttp(get('/trickle'), context({ timeoutMs: 700 }), never);
  assert.ok(Date.now() - started < 10_000);
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.retryable, true);
  assert.equal(r.httpStatus, 200);
  assert.equal(r.error, 'timed out after 700ms');
  assert.match(r.output, /^\.+$/);
});

test('abort cancels the exchange', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort('replaced by a newer run'), 200);
  const r = await runHttp(get('/trickle'), context(), controller.signal);
  assert.equal(r.outcome, 'cancelled');
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'cancelled: replaced by a newer run');
  const done = new AbortController();
  done.abort();
  assert.equal((await runHttp(get('/ok'), context(), done.signal)).error, 'cancelled');
});

test('redirects are followed; a redirect loop fails permanently', async () => {
  const moved = await runHttp(get('/moved'), context(), never);
  assert.equal(moved.outcome, 'succeeded');
  assert.equal(moved.output, 'all good');
  const loop = await runHttp(get('/loop'), context(), never);
  assert.equal(loop.outcome, 'failed');
  assert.equal(loop.retryable, false);
  assert.match(loop.error!, /redirect/);
});

test('a 300 MB body keeps memory bounded', async () => {
  const { result: r, growth } = await measureRss(() => runHttp(get('/huge'), context(), never));
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.outputBytes, 300 * MB + 3);
  assert.equal(r.outputTruncated, true);
  assert.ok(r.output.endsWith('yyyEND'));
  assert.ok(r.output.length <= 64 * 1024 + 50);
  assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
});

test('an unset variable in the url, a header or the body fails before any request', async () => {
  seen.length = 0;
  const cases: Array<[Partial<HttpTarget>, string]> = [
    [{ url: `${server.url}/ok?k=\${NO_SUCH_VAR}` }, 'the url'],
    [{ headers: { Authorization: 'Bearer ${NO_SUCH_VAR}' } }, 'header Authorization'],
    [{ method: 'POST', body: '${NO_SUCH_VAR}' }, 'the body'],
  ];
  for (const [extra, where] of cases) {
    const r = await runHttp(get('/ok', extra), context(), never);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.retryable, false);
    assert.equal(r.error, `environment variable NO_SUCH_VAR is not set (referenced by ${where})`);
  }
  assert.equal(seen.length, 0);
});

test('a URL that is not http(s), or a GET with a body, fails permanently', async () => {
  const ftp = await runHttp(get('/', { url: 'ftp://127.0.0.1/file' }), context(), never);
  assert.equal(ftp.retryable, false);
  assert.equal(ftp.error, 'URL ftp://127.0.0.1/file is not http or https');
  const junk = await runHttp(get('/', { url: 'not a url' }), context(), never);
  assert.equal(junk.error, 'invalid URL not a url');
  const getBody = await runHttp(get('/ok', { body: 'x' }), context(), never);
  assert.equal(getBody.error, 'a GET request cannot have a body');
});

test('execute dispatches to the HTTP executor', async () => {
  const r = await execute(get('/ok'), context(), never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.output, 'all good');
});

routes.set('/see-other', (_req, res) => res.writeHead(303, { location: '/ok' }).end());
routes.set('/found', (_req, res) => res.writeHead(302, { location: '/ok' }).end());
routes.set('/temporary', (_req, res) => res.writeHead(307, { location: '/ok' }).end());

test('a redirect turns a POST into a GET without its body as fetch does (303, 301, 302), not 307', async () => {
  for (const [path, method, body] of [['/see-other', 'GET', ''], ['/found', 'GET', ''], ['/moved', 'GET', ''], ['/temporary', 'POST', 'payload']] as const) {
    seen.length = 0;
    const r = await runHttp(get(path, { method: 'POST', body: 'payload', headers: { 'Content-Type': 'application/json' } }), context(), never);
    assert.equal(r.outcome, 'succeeded', path);
    assert.deepEqual(seen.map((s) => s.method), ['POST', method], path);
    assert.equal(seen[1].body, body, path);
    assert.equal(seen[1].headers['content-type'], body ? 'application/json' : undefined, path);
    assert.equal(seen[1].headers['idempotency-key'], 'nightly-report@2025-03-01T02:30:00.000Z', path);
  }
});

test('credentials do not follow a redirect to another origin; tock headers do', async () => {
  const other = await startServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
    res.end('elsewhere');
  });
  routes.set('/away', (_req, res) => res.writeHead(302, { location: `${other.url}/there` }).end());
  try {
    seen.length = 0;
    const r = await runHttp(get('/away', { headers: { Authorization: 'Bearer secret', Cookie: 'a=1', 'X-Custom': 'kept' } }), context(), never);
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.output, 'elsewhere');
    const [first, second] = seen;
    assert.equal(first.headers['authorization'], 'Bearer secret');
    assert.equal(second.url, '/there');
    assert.equal(second.headers['authorization'], undefined);
    assert.equal(second.headers['cookie'], undefined);
    assert.equal(second.headers['x-custom'], 'kept');
    assert.equal(second.headers['idempotency-key'], 'nightly-report@2025-03-01T02:30:00.000Z');
  } finally {
    await other.close();
  }
});

test('a body without a content type is sent as text/plain, with a content length, as fetch sent it', async () => {
  seen.length = 0;
  const r = await runHttp(get('/ok', { method: 'PUT', body: 'héllo' }), context(), never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(seen[0].method, 'PUT');
  assert.equal(seen[0].body, 'héllo');
  assert.equal(seen[0].headers['content-type'], 'text/plain;charset=UTF-8');
  assert.equal(seen[0].headers['content-length'], String(Buffer.byteLength('héllo')));
  assert.equal(seen[0].headers['accept'], '*/*');
});

test('a kept-alive connection the server drops as it is reused is retried once on a new one', async () => {
  // Each connection serves one request; a second one on it is dropped unanswered, as a
  // server closing an idle connection just as the client reuses it would.
  const perSocket = new Map<unknown, number>();
  let requests = 0;
  const flaky = await startServer((req, res) => {
    requests++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n > 1) return req.socket.destroy();
    res.end('fine');
  });
  try {
    const target = get('/', { url: `${flaky.url}/` });
    const first = await runHttp(target, context(), never);
    const second = await runHttp(target, context(), never);
    assert.equal(first.outcome, 'succeeded');
    assert.equal(second.outcome, 'succeeded', second.error);
    assert.equal(second.output, 'fine');
    assert.equal(requests, 3); // the dropped one, and its retry on a new connection
    assert.equal(perSocket.size, 2);
  } finally {
    await flaky.close();
  }
});

test('a connection closed in the middle of the body fails, retryable, keeping what arrived', async () => {
  routes.set('/cut', (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const r = await runHttp(get('/cut'), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, true);
  assert.equal(r.httpStatus, 200);
  assert.match(r.error!, /^connection reset \(ECONNRESET\)/);
  assert.equal(r.output, 'partial');
});

const openssl = spawnSync('openssl', ['version']).status === 0;

test('https is spoken; a certificate the machine does not trust fails the attempt, retryable', { skip: !openssl && 'no openssl to make a certificate' }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    let served = 0;
    const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => {
      served++;
      res.end('secret');
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls.address() as AddressInfo).port;
      const r = await runHttp(get('/', { url: `https://127.0.0.1:${port}/` }), context(), never);
      assert.equal(r.outcome, 'failed');
      assert.equal(r.retryable, true);
      assert.match(r.error!, /self[- ]signed certificate/);
      assert.equal(served, 0);
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
    }
  } finally {
    cleanup();
  }
});

test('a target slower to answer than the idle limit of kept-alive connections still succeeds', async () => {
  // The agent closes connections idle for IDLE_MS; one waiting for its answer is not idle.
  routes.set('/slow', (_req, res) => setTimeout(() => res.end('late but fine'), IDLE_MS + 500));
  const r = await runHttp(get('/slow'), context({ timeoutMs: IDLE_MS + 5_000 }), never);
  assert.equal(r.outcome, 'succeeded', r.error);
  assert.equal(r.output, 'late but fine');
});
