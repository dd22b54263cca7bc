// The HTTP executor: one exchange per attempt with tock's identity headers, a deadline that
// covers the whole exchange including the body, and a status -> retryable mapping.
// Error lines name the URL as written in the job, never expanded, so secrets stay out of the store.

import { STATUS_CODES } from 'node:http';
import { VERSION, type AttemptContext, type AttemptResult, type HttpTarget } from '../types.js';
import { formatDuration } from '../schedule/duration.js';
import { conceal, references, tryExpand } from './expand.js';
import { FIELD_VALUE_RULE, HEADER_NAME, isFieldValue } from '../target-rules.js';
import { TailBuffer } from './output.js';
import { cancelled, failed, finish, oneLine, type Verdict } from './result.js';
import { deadline } from './timer.js';
import { exchange, MAX_REDIRECTS, TooManyRedirects, type Head, type Request } from './exchange.js';

/** `literalBody`: send the body as it is, without ${NAME} expansion (a notification's JSON quotes job output). */
export interface HttpOptions {
  literalBody?: boolean;
}

export async function runHttp(
  target: HttpTarget,
  ctx: AttemptContext,
  signal: AbortSignal,
  options: HttpOptions = {},
): Promise<AttemptResult> {
  const startedAt = Date.now();
  const output = new TailBuffer(ctx.outputLimit);
  if (signal.aborted) return finish(cancelled(signal), output, startedAt);
  const request = prepare(target, ctx, options.literalBody === true);
  if ('error' in request) return finish(failed(request.error, false), output, startedAt);
  const limit = deadline(ctx.timeoutMs, signal);
  let head: Head | undefined;
  try {
    const final = await exchange(request, (chunk) => output.push(chunk), limit.signal, (h) => (head = h));
    return finish(verdictOfResponse(final, target, ctx), output, startedAt);
  } catch (err) {
    const verdict = verdictOfError(err, ctx, signal, limit.timedOut());
    if (verdict.error) verdict.error = conceal(verdict.error, target.url, ctx.env);
    if (head) verdict.httpStatus = head.status;
    return finish(verdict, output, startedAt);
  } finally {
    limit.dispose();
  }
}

/** Expanded URL, headers and body, or the one-line reason the request cannot be made (never retried). */
function prepare(target: HttpTarget, ctx: AttemptContext, literalBody: boolean): Request | { error: string } {
  const url = tryExpand(target.url, ctx.env, 'the url');
  if ('error' in url) return url;
  const urlError = checkUrl(url.value, target.url);
  if (urlError) return { error: urlError };
  const prepared = prepareHeaders(target, ctx);
  if ('error' in prepared) return prepared;
  const { headers, secretHeaders } = prepared;
  const method = target.method.toUpperCase();
  const secret = { headers: secretHeaders, body: false };
  if (target.body === undefined) return { url: url.value, method, headers: Object.fromEntries(headers), secret };
  if (/^(GET|HEAD)$/i.test(target.method)) return { error: `a ${target.method} request cannot have a body` };
  const body = literalBody ? { value: target.body } : tryExpand(target.body, ctx.env, 'the body');
  if ('error' in body) return body;
  if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
  secret.body = !literalBody && references(target.body).length > 0;
  return { url: url.value, method, headers: Object.fromEntries(headers), body: body.value, secret };
}

/** The job's headers expanded, then tock's; with the (lower-case) names whose value came from `${...}`. */
function prepareHeaders(target: HttpTarget, ctx: AttemptContext): { headers: Headers; secretHeaders: string[] } | { error: string } {
  const headers = new Headers();
  const secret = new Set<string>();
  for (const [name, raw] of Object.entries(target.headers)) {
    const value = tryExpand(raw, ctx.env, `header ${name}`);
    if ('error' in value) return value;
    const expanded = references(raw).length > 0;
    const headerError = checkHeader(name, value.value, expanded);
    if (headerError) return { error: headerError };
    headers.set(name, value.value);
    if (expanded) secret.add(name.toLowerCase());
  }
  for (const [name, value] of Object.entries(tockHeaders(ctx))) {
    headers.set(name, value); // set last, so a job's own header of the same name cannot replace them
    secret.delete(name.toLowerCase());
  }
  // What fetch sent by default, kept so that targets see the same request as before.
  if (!headers.has('accept')) headers.set('accept', '*/*');
  return { headers, secretHeaders: [...secret] };
}

/**
 * A header as Headers sends it (surrounding whitespace dropped, as from a secret read from
 * a file with its newline), checked in full: Node would refuse the rest on every attempt
 * alike. The message never quotes the value, which may hold a secret.
 */
function checkHeader(name: string, value: string, expanded: boolean): string | undefined {
  if (!HEADER_NAME.test(name)) return `header ${JSON.stringify(name)} is not a valid HTTP header name`;
  if (isFieldValue(value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''))) return undefined;
  return `header ${name} is not a valid HTTP header value${expanded ? ' after ${...} expansion' : ''}: ${FIELD_VALUE_RULE}`;
}

function checkUrl(url: string, written: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid URL ${written}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `URL ${written} is not http or https`;
  return undefined;
}

/** The headers every request carries; they win over a job's own header of the same name. */
function tockHeaders(ctx: AttemptContext): Record<string, string> {
  return {
    'Idempotency-Key': ctx.idempotencyKey,
    'User-Agent': `tock/${VERSION}`,
    'X-Tock-Job': ctx.job,
    'X-Tock-Attempt': String(ctx.attempt),
    'X-Tock-Scheduled-At': new Date(ctx.scheduledAt).toISOString(),
  };
}

function verdictOfResponse(response: Head, target: HttpTarget, ctx: AttemptContext): Verdict {
  const status = response.status;
  const ok = target.expect ? target.expect.includes(status) : status >= 200 && status < 300;
  if (ok) return { outcome: 'succeeded', retryable: false, httpStatus: status };
  const retryable = status === 408 || status === 429 || status >= 500;
  const reason = response.statusText || STATUS_CODES[status] || '';
  let error = `HTTP ${status}${reason ? ` ${oneLine(reason)}` : ''}`;
  if (target.expect) error += `, expected ${target.expect.join(' or ')}`;
  if (!retryable) error += ' (not retried)';
  const verdict: Verdict = { outcome: 'failed', retryable, httpStatus: status, error };
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'] ?? null, Date.now(), ctx.maxRetryAfterMs);
  if (retryAfterMs !== undefined) verdict.retryAfterMs = retryAfterMs;
  return verdict;
}

/** Retry-After is delta-seconds or an HTTP-date; the delay is capped at `capMs`. */
export function parseRetryAfter(value: string | null, now: number, capMs: number): number | undefined {
  const ms = value === null ? undefined : retryAfterDelay(value.trim(), now);
  return ms === undefined ? undefined : Math.min(ms, Math.max(0, capMs));
}

function retryAfterDelay(text: string, now: number): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate, RFC 850 and asctime dates all open with the day name; anything else is junk.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function verdictOfError(err: unknown, ctx: AttemptContext, signal: AbortSignal, timedOut: boolean): Verdict {
  if (timedOut) return { outcome: 'timeout', retryable: true, error: `timed out after ${formatDuration(ctx.timeoutMs)}` };
  if (signal.aborted) return cancelled(signal);
  if (err instanceof TooManyRedirects) return failed(`too many redirects (more than ${MAX_REDIRECTS}; a redirect loop?)`, false);
  const cause = (err as { cause?: unknown } | undefined)?.cause ?? err;
  return failed(describeNetworkError(cause, oneLine(errorMessage(cause))), true);
}

interface NetError {
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
  errors?: NetError[];
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed while sending',
};

/** `connection refused (ECONNREFUSED 127.0.0.1:8080)`; the first address when several were tried. */
function describeNetworkError(cause: unknown, message: string): string {
  const net = (cause ?? {}) as NetError;
  const first = net.errors?.[0] ?? net;
  const code = net.code ?? first.code;
  if (!code) return `request failed: ${message}`;
  const where = first.address ? `${first.address}${first.port ? `:${first.port}` : ''}` : (first.hostname ?? net.hostname);
  const detail = where ? `${code} ${where}` : code;
  const what = NETWORK_ERRORS[code];
  return what ? `${what} (${detail})` : `request failed (${detail}): ${message}`;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
