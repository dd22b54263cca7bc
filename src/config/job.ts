// One job definition, from the jobs file or from `tock add` flags, checked field by field
// into a JobSpec. Every problem is collected with its path; nothing stops at the first.

import {
  checkTimezone,
  parseCron,
  parseDuration,
  parseInstant,
  parseInterval,
  parsePositiveDuration,
} from '../schedule/index.js';
import {
  CATCHUPS,
  DEFAULTS,
  DELIVERIES,
  OVERLAPS,
  type Backoff,
  type Catchup,
  type Delivery,
  type HttpTarget,
  type JobSpec,
  type Overlap,
  type Schedule,
  type ShellTarget,
  type Target,
} from '../types.js';
import { argProblem, HEADER_NAME, headerValueProblem } from '../target-rules.js';
import { echo, quote } from '../escape.js';

export type Raw = Record<string, unknown>;

/** Where a field came from, for messages: `jobs[2].cron` in a file, `--cron` on the command line. */
export type Locate = (field: string) => string;

export const POLICY_FIELDS = [
  'timezone',
  'delivery',
  'retries',
  'backoff',
  'timeout',
  'overlap',
  'catchup',
  'catchup_limit',
  'catchup_window',
  'jitter',
  'output_limit',
] as const;

const JOB_FIELDS = new Set<string>([
  'name',
  'description',
  'cron',
  'every',
  'at',
  'start',
  'end',
  'window',
  'shell',
  'http',
  'paused',
  ...POLICY_FIELDS,
]);

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_RULE = 'letters, digits, dot, dash and underscore, starting with a letter or digit, at most 64 characters';

export function checkName(name: unknown): string | undefined {
  if (name === undefined || name === null || name === '') return 'a job needs a name';
  if (typeof name !== 'string') return `a name must be text, got ${kind(name)}${asText(name)}`;
  if (!NAME_PATTERN.test(name)) return `invalid job name ${quote(name)}: use ${NAME_RULE}`;
  return undefined;
}

/** YAML reads `name: 2024` or `name: true` as a number or a boolean: say how to keep it text. */
function asText(v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' ? ` (write it in quotes: "${v}")` : '';
}

/** Collects problems while one job is read. */
class Reader {
  constructor(
    private readonly raw: Raw,
    readonly at: Locate,
    readonly problems: string[],
  ) {}

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  value(field: string): unknown {
    return this.raw[field];
  }

  fail(field: string, message: string): undefined {
    this.problems.push(`${this.at(field)}: ${message}`);
    return undefined;
  }

  /** Runs a parser that throws a message on bad input; records the message with the field's path. */
  parse<T>(field: string, fn: (v: string) => T): T | undefined {
    return this.parseValue(field, this.raw[field], fn);
  }

  parseValue<T>(field: string, v: unknown, fn: (v: string) => T): T | undefined {
    if (v instanceof Date) v = v.toISOString(); // YAML reads an unquoted timestamp as a Date
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(field, `expected text, got ${kind(v)}`);
    try {
      return fn(String(v).trim());
    } catch (err) {
      return this.fail(field, (err as Error).message);
    }
  }

  /** A reader for a nested mapping, whose paths continue this one's (`jobs[0].http.url`). */
  child(field: string, raw: Raw): Reader {
    return new Reader(raw, (f) => this.at(`${field}.${f}`), this.problems);
  }

  string(field: string): string | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') return this.fail(field, `expected text, got ${kind(v)}`);
    return v;
  }

  integer(field: string, min: number, max: number): number | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return this.fail(field, `expected a whole number, got ${show(v)}`);
    if (n < min || n > max) return this.fail(field, `${n} is out of range ${min}-${max}`);
    return n;
  }

  choice<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(field, `${show(v)} is not one of ${allowed.join(', ')}`);
  }

  boolean(field: string): boolean | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.fail(field, `expected true or false, got ${show(v)}`);
  }
}

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${show(v)}`;
}

/** A value echoed in a message: quoted, escaped and cut to a readable length. */
function show(v: unknown): string {
  return typeof v === 'string' ? quote(v) : echo(String(JSON.stringify(v) ?? v));
}

export function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one job. `defaults` supplies policy fields the job leaves out (the file's
 * `defaults:`). Returns undefined when anything is wrong; the problems say what.
 */
export function readJob(raw: Raw, at: Locate, problems: string[], defaults: Raw = {}): JobSpec | undefined {
  const before = problems.length;
  for (const field of Object.keys(raw)) {
    if (!JOB_FIELDS.has(field)) problems.push(`${at(echo(field))}: unknown field (fields: ${[...JOB_FIELDS].join(', ')})`);
  }
  const merged: Raw = { ...defaults, ...withoutNulls(raw) };
  const r = new Reader(merged, (f) => (f in raw || !(f in defaults) ? at(f) : `defaults.${f}`), problems);

  const nameProblem = checkName(merged.name);
  if (nameProblem) r.fail('name', nameProblem);
  const timezone = r.has('timezone') ? r.parse('timezone', checkTimezone) : DEFAULTS.timezone;
  const schedule = timezone ? readSchedule(r, timezone) : undefined;
  const window = readWindow(r, timezone ?? DEFAULTS.timezone);
  const target = readTarget(r);
  const delivery = r.choice<Delivery>('delivery', DELIVERIES) ?? DEFAULTS.delivery;
  const retries =
    r.integer('retries', 0, 1000) ?? (delivery === 'at-most-once' ? DEFAULTS.retriesAtMostOnce : DEFAULTS.retries);
  if (delivery === 'at-most-once' && retries > 0 && r.has('retries') && 'retries' in raw) {
    r.fail('retries', 'an at-most-once job never retries; drop retries or choose at-least-once');
  }
  const spec: Partial<JobSpec> = {
    name: merged.name as string,
    description: r.string('description'),
    schedule,
    ...window,
    jitterMs: r.has('jitter') ? r.parse('jitter', parseDuration) : 0,
    target,
    delivery,
    retries,
    backoff: readBackoff(r),
    timeoutMs: r.has('timeout') ? r.parse('timeout', parsePositiveDuration) : DEFAULTS.timeoutMs,
    overlap: r.choice<Overlap>('overlap', OVERLAPS) ?? DEFAULTS.overlap,
    catchup: r.choice<Catchup>('catchup', CATCHUPS) ?? (delivery === 'at-most-once' ? 'skip' : 'latest'),
    catchupLimit: r.integer('catchup_limit', 1, 100_000) ?? DEFAULTS.catchupLimit,
    catchupWindowMs: r.has('catchup_window') ? r.parse('catchup_window', parsePositiveDuration) : undefined,
    outputLimit: r.integer('output_limit', 0, 16 * 1024 * 1024) ?? DEFAULTS.outputLimit,
    paused: r.boolean('paused'),
  };
  if (problems.length > before) return undefined;
  return dropUndefined(spec) as JobSpec;
}

function readSchedule(r: Reader, timezone: string): Schedule | undefined {
  const given = ['cron', 'every', 'at'].filter((f) => r.has(f));
  if (given.length !== 1) {
    return r.fail(
      given[1] ?? 'cron',
      given.length === 0 ? 'a job needs a schedule: one of cron, every or at' : `give one of cron, every or at, not ${given.join(' and ')}`,
    );
  }
  const field = given[0];
  if (field === 'cron') {
    const expr = r.parse('cron', (v) => (parseCron(v), v));
    return expr === undefined ? undefined : { kind: 'cron', expr, timezone };
  }
  if (field === 'every') {
    const everyMs = r.parse('every', parseInterval);
    return everyMs === undefined ? undefined : { kind: 'every', expr: String(r.value('every')).trim(), everyMs, timezone };
  }
  const atMs = r.parse('at', (v) => parseInstant(v, timezone));
  return atMs === undefined ? undefined : { kind: 'at', expr: String(r.value('at')).trim(), atMs, timezone };
}

function readWindow(r: Reader, timezone: string): { startMs?: number; endMs?: number } {
  let start: unknown = r.value('start');
  let end: unknown = r.value('end');
  const window = r.value('window');
  if (window !== undefined) {
    if (!isMapping(window)) {
      r.fail('window', `expected a mapping with start and/or end, got ${kind(window)}`);
    } else {
      start ??= window.start;
      end ??= window.end;
    }
  }
  const instant = (field: string, v: unknown) =>
    v === undefined || v === null ? undefined : r.parseValue(field, v, (s) => parseInstant(s, timezone));
  const startMs = instant('start', start);
  const endMs = instant('end', end);
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) r.fail('end', 'end is before start');
  return { startMs, endMs };
}

function readTarget(r: Reader): Target | undefined {
  const shell = r.value('shell');
  const http = r.value('http');
  if ((shell === undefined) === (http === undefined)) {
    return r.fail(
      shell === undefined ? 'shell' : 'http',
      shell === undefined ? 'a job needs a target: shell or http' : 'give shell or http, not both',
    );
  }
  return shell !== undefined ? readShell(r, shell) : readHttp(r, http);
}

function readShell(r: Reader, v: unknown): ShellTarget | undefined {
  const raw: Raw = typeof v === 'string' ? { command: v } : isMapping(v) ? v : {};
  if (!isMapping(v) && typeof v !== 'string') return r.fail('shell', `expected a command or a mapping, got ${kind(v)}`);
  const sub = r.child('shell', raw);
  const fields = ['command', 'cwd', 'env', 'inherit_env'];
  for (const f of Object.keys(raw)) if (!fields.includes(f)) sub.fail(echo(f), `unknown field (fields: ${fields.join(', ')})`);
  const command = sub.string('command');
  if (!command || command.trim() === '') return sub.fail('command', 'the shell command is empty');
  const commandProblem = argProblem(command);
  if (commandProblem) sub.fail('command', `the shell command ${commandProblem}`);
  const cwd = sub.string('cwd');
  const env = readStringMap(sub, 'env', ENV_NAME, 'an environment variable name');
  const inheritEnv = readNames(sub, 'inherit_env');
  for (const [k, val] of Object.entries(env ?? {})) {
    const entryProblem = argProblem(`${k}=${val}`);
    if (entryProblem) sub.fail(`env.${k}`, `the environment entry ${k}=... ${entryProblem}`);
  }
  return dropUndefined({ kind: 'shell', command, cwd, env, inheritEnv }) as ShellTarget;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `inherit_env: [PATH, HOME]`: a list of variable names, each once (`[]`: none). */
function readNames(r: Reader, field: string): string[] | undefined {
  const v = r.value(field);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return r.fail(field, `expected a list of environment variable names, got ${kind(v)}`);
  for (const name of v) {
    if (typeof name !== 'string') return r.fail(field, `expected environment variable names, got ${kind(name)} in the list`);
    if (!ENV_NAME.test(name)) return r.fail(field, `${quote(name)} is not an environment variable name`);
  }
  return [...new Set(v as string[])];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function readHttp(r: Reader, v: unknown): HttpTarget | undefined {
  const raw: Raw = typeof v === 'string' ? { url: v } : isMapping(v) ? v : {};
  if (!isMapping(v) && typeof v !== 'string') return r.fail('http', `expected a URL or a mapping, got ${kind(v)}`);
  const sub = r.child('http', raw);
  for (const f of Object.keys(raw)) {
    if (!['url', 'method', 'headers', 'body', 'expect'].includes(f)) sub.fail(echo(f), 'unknown field (fields: url, method, headers, body, expect)');
  }
  const url = sub.string('url');
  if (url === undefined) return sub.fail('url', 'an http target needs a url');
  const urlProblem = checkUrl(url);
  if (urlProblem) sub.fail('url', urlProblem);
  const methodRaw = sub.string('method') ?? 'GET';
  const method = methodRaw.toUpperCase();
  if (!METHODS.includes(method)) sub.fail('method', `${quote(methodRaw)} is not one of ${METHODS.join(', ')}`);
  const headers = readStringMap(sub, 'headers', HEADER_NAME, 'a header name') ?? {};
  for (const [k, val] of Object.entries(headers)) {
    const valueProblem = headerValueProblem(val);
    if (valueProblem) sub.fail('headers', `header ${echo(k)} ${valueProblem}`);
    if (k.toLowerCase() === 'idempotency-key') sub.fail('headers', 'Idempotency-Key is set by tock from the occurrence; remove it');
  }
  const body = sub.string('body');
  const expect = readExpect(sub);
  return dropUndefined({ kind: 'http', url, method, headers, body, expect }) as HttpTarget;
}

/** http and https only; `${NAME}` placeholders are allowed and checked after a stand-in replaces them. */
export function checkUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x'));
  } catch {
    return `${quote(url)} is not a URL (e.g. http://127.0.0.1:8080/hook)`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `${quote(url)}: only http and https URLs are allowed, not ${echo(parsed.protocol.replace(':', ''))}`;
  }
  return undefined;
}

function readExpect(r: Reader): number[] | undefined {
  const v = r.value('expect');
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n >= 100 && n <= 599)) {
    return r.fail('expect', 'expected a list of HTTP statuses between 100 and 599');
  }
  return list as number[];
}

function readStringMap(r: Reader, field: string, keyPattern: RegExp, what: string): Record<string, string> | undefined {
  const v = r.value(field);
  if (v === undefined || v === null) return undefined;
  if (!isMapping(v)) return r.fail(field, `expected a mapping, got ${kind(v)}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!keyPattern.test(k)) r.fail(field, `${quote(k)} is not ${what}`);
    else if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else r.fail(`${field}.${echo(k)}`, `expected text, got ${kind(val)}`);
  }
  return out;
}

/** `1s`, `1s:5m`, or a mapping {initial, max, multiplier}. */
function readBackoff(r: Reader): Backoff | undefined {
  const v = r.value('backoff');
  if (v === undefined || v === null) return { ...DEFAULTS.backoff };
  if (isMapping(v)) {
    const sub = r.child('backoff', v);
    const initialMs = sub.has('initial') ? sub.parse('initial', parsePositiveDuration) : DEFAULTS.backoff.initialMs;
    const maxMs = sub.has('max') ? sub.parse('max', parsePositiveDuration) : Math.max(DEFAULTS.backoff.maxMs, initialMs ?? 0);
    const multiplier = sub.value('multiplier') ?? DEFAULTS.backoff.multiplier;
    if (typeof multiplier !== 'number' || !(multiplier >= 1 && multiplier <= 100)) {
      return sub.fail('multiplier', `expected a number from 1 to 100, got ${show(multiplier)}`);
    }
    return checkBackoff(r, initialMs, maxMs, multiplier);
  }
  const parts = r.parse('backoff', (s) => s.split(':'));
  if (!parts) return undefined;
  if (parts.length > 2) return r.fail('backoff', `${show(v)}: expected INITIAL or INITIAL:MAX, e.g. 1s:5m`);
  const initialMs = r.parseValue('backoff', parts[0], parsePositiveDuration);
  const maxMs =
    parts.length === 2
      ? r.parseValue('backoff', parts[1], parsePositiveDuration)
      : Math.max(DEFAULTS.backoff.maxMs, initialMs ?? 0);
  return checkBackoff(r, initialMs, maxMs, DEFAULTS.backoff.multiplier);
}

function checkBackoff(r: Reader, initialMs?: number, maxMs?: number, multiplier?: number): Backoff | undefined {
  if (initialMs === undefined || maxMs === undefined || multiplier === undefined) return undefined;
  if (maxMs < initialMs) return r.fail('backoff', 'the maximum backoff is smaller than the initial one');
  return { initialMs, maxMs, multiplier };
}

function withoutNulls(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
