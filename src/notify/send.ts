// One sender per channel kind, each built on the executors in src/exec/ (process groups,
// deadlines, the HTTP client), and `send`, the one entry point the outbox calls: it
// returns ok, or an error line and whether trying again later may help. It never throws.

import { findSendmail } from './sendmail.js';
import { runHttp } from '../exec/http.js';
import { oneLine } from '../exec/result.js';
import { runShell } from '../exec/shell.js';
import { DEFAULTS, type AttemptContext, type AttemptResult, type NotifyTarget } from '../types.js';
import { toEnv, toPayload, type NotificationEvent } from './event.js';
import { formatMail } from './mail.js';

export type SendResult = { ok: true } | { ok: false; error: string; transient: boolean };

export interface SendOptions {
  /** The daemon's environment: ${NAME} in a webhook's url and headers, PATH for sendmail, what a command inherits. */
  env?: NodeJS.ProcessEnv;
  /** Which try of this notification (1-based); a command sees it as TOCK_ATTEMPT, a webhook as X-Tock-Attempt. */
  attempt?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Marks a command's processes (TOCK_STORE), as an attempt's are. */
  storeId?: string;
}

export const SEND_TIMEOUT_MS = 30_000;
/** Output kept from a command or a webhook's response, for the error line. */
const KEPT_OUTPUT = 4096;
/** sysexits a sendmail returns for a mail that will never go: usage, data, no such user or host. */
const PERMANENT_SENDMAIL_EXITS = new Set([64, 65, 67, 68]);

export async function send(target: NotifyTarget, event: NotificationEvent, options: SendOptions = {}): Promise<SendResult> {
  try {
    if (target.kind === 'shell') return await sendShell(target.command, event, options);
    if (target.kind === 'http') return await sendHttp(target, event, options);
    return await sendEmail(target.to, event, options);
  } catch (err) {
    return { ok: false, error: `internal error: ${oneLine(err instanceof Error ? err.message : String(err))}`, transient: true };
  }
}

/** The command byte for byte with /bin/sh -c; the event in TOCK_* and as JSON on stdin. */
export async function sendShell(command: string, event: NotificationEvent, options: SendOptions): Promise<SendResult> {
  const ctx = context(event, options, { ...toEnv(event) });
  const stdin = `${JSON.stringify(toPayload(event))}\n`;
  const result = await runShell({ kind: 'shell', command }, ctx, signalOf(options), { stdin });
  return resultOf(result, (r) => r.retryable);
}

/** The event as a JSON body, with the notification's key as Idempotency-Key. */
export async function sendHttp(
  target: Extract<NotifyTarget, { kind: 'http' }>,
  event: NotificationEvent,
  options: SendOptions,
): Promise<SendResult> {
  const headers = { ...target.headers, 'Content-Type': 'application/json' };
  const body = JSON.stringify(toPayload(event));
  const http = { kind: 'http' as const, url: target.url, method: target.method, headers, body };
  const result = await runHttp(http, context(event, options, {}), signalOf(options), { literalBody: true });
  return resultOf(result, (r) => r.retryable);
}

/** A readable mail piped to `sendmail -t -oi`, which takes the recipient from To:. */
export async function sendEmail(to: string, event: NotificationEvent, options: SendOptions): Promise<SendResult> {
  const sendmail = findSendmail(options.env ?? process.env);
  if (!sendmail) return { ok: false, error: 'no sendmail found on $PATH, in /usr/sbin or /usr/lib', transient: true };
  // The path reaches the command as data: the shell expands it, never parses it.
  const ctx = context(event, options, { TOCK_SENDMAIL: sendmail });
  const command = 'exec "$TOCK_SENDMAIL" -t -oi';
  const result = await runShell({ kind: 'shell', command }, ctx, signalOf(options), { stdin: formatMail(event, to) });
  return resultOf(result, (r) => r.exitCode === undefined || !PERMANENT_SENDMAIL_EXITS.has(r.exitCode), 'sendmail');
}

/** The executors' context for a notification: the job's identity, the notification's key, its own runner mark. */
function context(event: NotificationEvent, options: SendOptions, extraEnv: Record<string, string>): AttemptContext {
  return {
    job: event.job,
    occurrenceId: event.occurrenceId,
    storeId: options.storeId ?? '-',
    // Never the id of a runner: killOrphans for the occurrence's attempt leaves notifications alone.
    runnerId: 'notify',
    idempotencyKey: event.key,
    scheduledAt: event.scheduledAt,
    attempt: options.attempt ?? 1,
    timeoutMs: options.timeoutMs ?? SEND_TIMEOUT_MS,
    outputLimit: KEPT_OUTPUT,
    env: { ...(options.env ?? process.env), ...extraEnv },
    killGraceMs: DEFAULTS.killGraceMs,
    maxRetryAfterMs: 0,
  };
}

function signalOf(options: SendOptions): AbortSignal {
  return options.signal ?? new AbortController().signal;
}

/** ok on success; else the executor's error line, with the last line of output (what sendmail or curl said). */
function resultOf(r: AttemptResult, transient: (r: AttemptResult) => boolean, who?: string): SendResult {
  if (r.outcome === 'succeeded') return { ok: true };
  const said = lastLine(r.output);
  const error = `${who ? `${who}: ` : ''}${r.error ?? r.outcome}${said ? `: ${said}` : ''}`;
  return { ok: false, error, transient: r.outcome !== 'failed' || transient(r) };
}

function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1) ?? '';
  return oneLine(last.length > 200 ? `${last.slice(0, 200)}...` : last);
}
