// One HTTP exchange on node:http / node:https: the request, redirects followed as fetch
// follows them, and the final response's body streamed to a sink. Not fetch: undici ties
// each request's objects to a WeakRef and a FinalizationRegistry, which the young-generation
// collector treats as strong, so every request's garbage was promoted and left to full
// collections. Measured in one process on loopback, 64 at a time: fetch 5,250 requests/s
// and ~20 KB promoted per request; node:http 14,700/s and none (bench/RESULTS.md).

import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

/** As fetch: the 21st redirect in a row is an error. */
export const MAX_REDIRECTS = 20;
/** Idle keep-alive connections close after this, before a server's usual 5 s closes them under us. */
export const IDLE_MS = 4_000;

export interface Request {
  url: string;
  method: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: string;
  /** What took a value from `${NAME}`: it never follows a redirect to another origin. */
  secret: { headers: string[]; body: boolean };
}

export interface Head {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
}

export class TooManyRedirects extends Error {
  constructor() {
    super(`more than ${MAX_REDIRECTS} redirects`);
  }
}

/** Thrown when the connection ends before the response does; a network error like any other. */
function closedEarly(): Error {
  return Object.assign(new Error('the connection closed before the response ended'), { code: 'ECONNRESET' });
}

let agents: { 'http:': http.Agent; 'https:': https.Agent } | undefined;

function agentFor(protocol: string): http.Agent {
  agents ??= {
    'http:': new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
  };
  return protocol === 'https:' ? agents['https:'] : agents['http:'];
}

/**
 * Sends `request`, following redirects, and streams the final body into `sink`. `onHead`
 * sees the final status line before the body is read (so a body that stalls still
 * reports its status). Rejects with the network error, TooManyRedirects, or, once
 * `signal` aborts, with its reason: the caller tells a timeout or a cancel apart.
 */
export async function exchange(
  request: Request,
  sink: (chunk: Buffer) => void,
  signal: AbortSignal,
  onHead: (head: Head) => void,
): Promise<Head> {
  let hop: Hop = { url: new URL(request.url), method: request.method, headers: { ...request.headers }, body: request.body };
  for (let redirects = 0; ; redirects++) {
    const res = await send(hop.url, hop.method, hop.headers, hop.body, signal);
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (isRedirect(status) && location !== undefined) {
      res.on('error', () => {}); // its body is not wanted, nor a failure while discarding it
      res.resume(); // drained, so the connection goes back to the pool
      if (redirects === MAX_REDIRECTS) throw new TooManyRedirects();
      hop = redirected(hop, status, new URL(location, hop.url), request.secret);
      continue;
    }
    const head = { status, statusText: res.statusMessage ?? '', headers: res.headers };
    onHead(head);
    await readBody(res, sink, signal);
    return head;
  }
}

/** One request of an exchange: the first, or where a redirect leads. */
interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie'];

/** The request a redirect to `next` calls for. */
function redirected(hop: Hop, status: number, next: URL, secret: Request['secret']): Hop {
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`redirected to ${next.protocol} URL`);
  const follow: Hop = { ...hop, url: next, headers: { ...hop.headers } };
  // As fetch: 303, and 301/302 after a POST, continue as a GET without the body.
  if ((status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST')) {
    follow.method = 'GET';
    follow.body = undefined;
    deleteBodyHeaders(follow.headers);
  }
  // Credentials, and whatever carries a ${NAME} value, do not follow a redirect to another origin.
  if (next.origin !== hop.url.origin) {
    for (const h of [...CREDENTIALS, ...secret.headers]) delete follow.headers[h];
    if (secret.body && follow.body !== undefined) {
      follow.body = ''; // the method stays (307, 308) and goes on with Content-Length: 0
      deleteBodyHeaders(follow.headers);
    }
  }
  return follow;
}

function deleteBodyHeaders(headers: Record<string, string>): void {
  for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) delete headers[h];
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * One request; resolves at the response's status line. A kept-alive connection that the
 * server closed just as it was reused fails before any response: that request is sent
 * once more on a new connection (the server never saw it), as Node's documentation advises.
 */
async function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  try {
    return await sendOnce(url, method, headers, body, signal, false);
  } catch (err) {
    if (!(err as { reusedSocket?: boolean }).reusedSocket || signal.aborted) throw err;
    return sendOnce(url, method, headers, body, signal, true);
  }
}

function sendOnce(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
  fresh: boolean,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const client = url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest;
    const onAbort = (): void => {
      req.destroy();
      reject(signal.reason);
    };
    try {
      req = client.request(url, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: fresh ? false : agentFor(url.protocol),
      });
    } catch (err) {
      return reject(err); // a header Node refuses, say
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      signal.removeEventListener('abort', onAbort);
      resolve(res);
    });
    req.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      const reusable = req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET';
      reject(reusable ? Object.assign(err, { reusedSocket: true }) : err);
    });
    req.end(body);
  });
}

function readBody(res: IncomingMessage, sink: (chunk: Buffer) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      res.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (err?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    res.on('data', sink);
    res.once('end', () => done());
    res.on('error', (err) => done(err));
    res.once('close', () => {
      if (!res.complete) done(closedEarly());
    });
  });
}
