// A job's target: `shell` (a command, or a mapping with command, cwd, env, inherit_env)
// or `http` (a URL, or a mapping with url, method, headers, body, expect), exactly one of
// them, each field checked with its path.

import { echo, quote } from '../escape.js';
import { argProblem, HEADER_NAME, headerValueProblem } from '../target-rules.js';
import type { HttpTarget, ShellTarget, Target } from '../types.js';
import { dropUndefined, isMapping, kind, type Raw, type Reader } from './reader.js';

/** How each target may be written: as text (its first field) or as a mapping of its fields. */
const SHELL = { field: 'shell', text: 'a command', fields: ['command', 'cwd', 'env', 'inherit_env'] };
const HTTP = { field: 'http', text: 'a URL', fields: ['url', 'method', 'headers', 'body', 'expect'] };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readTarget(r: Reader): Target | undefined {
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
  const sub = targetReader(r, v, SHELL);
  if (!sub) return undefined;
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

/** The reader of a target's fields, unknown ones reported; undefined when it is neither text nor a mapping. */
function targetReader(r: Reader, v: unknown, how: typeof SHELL): Reader | undefined {
  if (!isMapping(v) && typeof v !== 'string') return r.fail(how.field, `expected ${how.text} or a mapping, got ${kind(v)}`);
  const raw: Raw = typeof v === 'string' ? { [how.fields[0]]: v } : v;
  const sub = r.child(how.field, raw);
  for (const f of Object.keys(raw)) if (!how.fields.includes(f)) sub.fail(echo(f), `unknown field (fields: ${how.fields.join(', ')})`);
  return sub;
}

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

function readHttp(r: Reader, v: unknown): HttpTarget | undefined {
  const sub = targetReader(r, v, HTTP);
  if (!sub) return undefined;
  const url = sub.string('url');
  if (url === undefined) return sub.fail('url', 'an http target needs a url');
  const urlProblem = checkUrl(url);
  if (urlProblem) sub.fail('url', urlProblem);
  const methodRaw = sub.string('method') ?? 'GET';
  const method = methodRaw.toUpperCase();
  if (!METHODS.includes(method)) sub.fail('method', `${quote(methodRaw)} is not one of ${METHODS.join(', ')}`);
  const headers = readHeaders(sub);
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

export function readHeaders(r: Reader): Record<string, string> {
  const headers = readStringMap(r, 'headers', HEADER_NAME, 'a header name') ?? {};
  for (const [k, val] of Object.entries(headers)) {
    const valueProblem = headerValueProblem(val);
    if (valueProblem) r.fail('headers', `header ${echo(k)} ${valueProblem}`);
    if (k.toLowerCase() === 'idempotency-key') r.fail('headers', 'Idempotency-Key is set by tock from the occurrence; remove it');
  }
  return headers;
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
