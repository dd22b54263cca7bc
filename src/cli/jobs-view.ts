// How a job looks to a user: its JSON document (SPEC §6, snake_case, ISO-8601 UTC) and
// its human-readable block, both with the next fire times. What a job's author wrote
// (command, URL, headers, description...) is escaped in the human forms, never in JSON.

import type { Backend, Job } from '../store/backend.js';
import type { Firing } from '../schedule/for-job.js';
import { describeSchedule, formatDuration } from '../schedule/index.js';
import type { JobSpec, Target } from '../types.js';
import { escapeLine } from '../escape.js';
import { iso, span, stateColor, when } from './io.js';

export interface LastResult {
  state: string;
  finished_at: string | null;
}

export function targetJson(t: Target): Record<string, unknown> {
  return t.kind === 'shell'
    ? { kind: 'shell', command: t.command, cwd: t.cwd ?? null, env: t.env ?? {}, inherit_env: t.inheritEnv ?? null }
    : { kind: 'http', method: t.method, url: t.url, headers: t.headers, body: t.body ?? null, expect: t.expect ?? null };
}

/** `shell: CMD` or `http: METHOD URL`, escaped for a terminal. */
export function targetText(t: Target): string {
  return escapeLine(t.kind === 'shell' ? `shell: ${t.command}` : `http: ${t.method} ${t.url}`);
}

export function scheduleJson(spec: JobSpec): Record<string, unknown> {
  const s = spec.schedule;
  return {
    kind: s.kind,
    expr: s.expr,
    timezone: s.timezone,
    ...(s.kind === 'every' ? { every_ms: s.everyMs } : {}),
    ...(s.kind === 'at' ? { at: iso(s.atMs) } : {}),
    start: iso(spec.startMs),
    end: iso(spec.endMs),
    jitter: spec.jitterMs ? formatDuration(spec.jitterMs) : null,
  };
}

export function jobJson(row: Job, next: Firing[], last: LastResult | null, recent: string[]): Record<string, unknown> {
  const s = row.spec;
  return {
    name: row.name,
    description: s.description ?? null,
    schedule: scheduleJson(s),
    target: targetJson(s.target),
    delivery: s.delivery,
    paused: row.paused,
    done: row.doneAt !== null,
    next_run: next.length ? iso(next[0].fireAt) : null,
    last,
    recent,
    retries: s.retries,
    backoff: { initial: formatDuration(s.backoff.initialMs), max: formatDuration(s.backoff.maxMs), multiplier: s.backoff.multiplier },
    timeout: formatDuration(s.timeoutMs),
    overlap: s.overlap,
    catchup: s.catchup,
    catchup_limit: s.catchupLimit,
    catchup_window: s.catchupWindowMs === undefined ? null : formatDuration(s.catchupWindowMs),
    output_limit: s.outputLimit,
    version: row.version,
    source: row.source,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

/** Last finished result and the states of the recent ones (newest first). */
export async function results(backend: Backend, name: string, n: number): Promise<{ last: LastResult | null; recent: string[] }> {
  const rows = await backend.recent(name, n);
  const last = rows[0] ? { state: rows[0].state, finished_at: iso(rows[0].finishedAt) } : null;
  return { last, recent: rows.map((r) => r.state) };
}

const MARKS: Record<string, string> = { succeeded: '✓', failed: '✗', abandoned: '!', skipped: '-', missed: '?' };

/** Recent results as marks, oldest to newest: `✓✓✗✓`. */
export function recentMarks(recent: string[], paint: (state: string, mark: string) => string): string {
  return [...recent]
    .reverse()
    .map((s) => paint(s, MARKS[s] ?? '·'))
    .join('');
}

/** The block printed by `add` and `show`. */
export function jobText(row: Job, next: Firing[], now: number, last: LastResult | null): string {
  const s = row.spec;
  const t = s.target;
  const lines: [string, string][] = [['schedule', escapeLine(describeSchedule(s.schedule))]];
  if (s.startMs !== undefined || s.endMs !== undefined) lines.push(['window', `${when(s.startMs)} .. ${when(s.endMs)}`]);
  if (s.jitterMs) lines.push(['jitter', formatDuration(s.jitterMs)]);
  lines.push(['target', targetText(t)]);
  if (t.kind === 'shell') {
    if (t.cwd) lines.push(['cwd', escapeLine(t.cwd)]);
    if (t.inheritEnv) lines.push(['inherits', t.inheritEnv.length ? t.inheritEnv.join(', ') : "none of the daemon's environment"]);
    for (const [k, v] of Object.entries(t.env ?? {})) lines.push(['env', escapeLine(`${k}=${v}`)]);
  } else {
    for (const [k, v] of Object.entries(t.headers)) lines.push(['header', escapeLine(`${k}: ${v}`)]);
    if (t.body !== undefined) lines.push(['body', escapeLine(t.body)]);
    if (t.expect) lines.push(['expect', t.expect.join(', ')]);
  }
  const retry = s.retries
    ? `${s.retries} retries, backoff ${formatDuration(s.backoff.initialMs)} doubling to ${formatDuration(s.backoff.maxMs)}`
    : 'no retries';
  lines.push(['delivery', `${s.delivery}; ${retry}; timeout ${formatDuration(s.timeoutMs)}`]);
  const window = s.catchupWindowMs ? `, within ${formatDuration(s.catchupWindowMs)}` : '';
  const limit = s.catchup === 'all' ? ` (at most ${s.catchupLimit})` : '';
  lines.push(['policies', `overlap ${s.overlap}; catch-up ${s.catchup}${limit}${window}`]);
  if (s.description) lines.push(['about', escapeLine(s.description)]);
  lines.push(['state', row.doneAt !== null ? 'done (one-shot, fired)' : row.paused ? 'paused' : 'active']);
  if (last) lines.push(['last', `${stateColor(last.state)} ${last.finished_at ? when(Date.parse(last.finished_at)) : ''}`]);
  next.forEach((f, i) => lines.push([i === 0 ? 'next' : '', `${when(f.fireAt)}  (in ${span(f.fireAt - now)})`]));
  if (next.length === 0) lines.push(['next', '-']);
  const width = Math.max(...lines.map(([k]) => k.length));
  return [escapeLine(row.name), ...lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
