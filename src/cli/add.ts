// `tock add <name> ...`: flags become the same raw fields as a jobs-file entry and go
// through the same validation, so both say the same things about the same mistakes.

import { ValidationErrors, usageError } from '../errors.js';
import { readJob, type Raw } from '../config/job.js';
import { quote } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withBackend } from './io.js';
import { jobJson, jobText, results } from './jobs-view.js';
import { upcoming } from '../catalogue/next.js';

const FLAG_OF: Record<string, string> = {
  name: '<name>',
  timezone: '--tz',
  'shell.command': '--shell',
  'shell.cwd': '--cwd',
  'shell.env': '--env',
  'shell.inherit_env': '--inherit-env',
  'http.url': '--http',
  'http.method': '--method',
  'http.headers': '--header',
  'http.body': '--body',
  'http.expect': '--expect',
  catchup_limit: '--catchup-limit',
  catchup_window: '--catchup-window',
  output_limit: '--output-limit',
};

export const flagOf = (field: string) =>
  FLAG_OF[field] ?? (field.includes('.') ? `--${field.split('.').pop()}` : `--${field.replace(/_/g, '-')}`);

export default async function add(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const problems: string[] = [];
  const raw = rawFromFlags(String(args[0]), o, problems);
  const spec = readJob(raw, flagOf, problems);
  if (!spec || problems.length) throw new ValidationErrors(problems);
  await useColor(global);
  await withBackend(global, async (backend) => {
    const now = Date.now();
    const job = await backend.addJob(spec, 'cli', now);
    if (!job) throw usageError(`a job named ${spec.name} already exists; change it with \`tock apply\` or remove it first`);
    const next = upcoming(job, now, 3);
    if (global.json) return printJson({ ...jobJson(job, next, null, []), next_runs: next.map((f) => new Date(f.fireAt).toISOString()) });
    print(`created ${jobText(job, next, now, (await results(backend, job.name, 1)).last)}`);
  });
}

function rawFromFlags(name: string, o: Record<string, unknown>, problems: string[]): Raw {
  const raw: Raw = {
    name,
    cron: o.cron,
    every: o.every,
    at: o.at,
    timezone: o.tz,
    start: o.start,
    end: o.end,
    jitter: o.jitter,
    delivery: o.delivery,
    retries: o.retries,
    backoff: o.backoff,
    timeout: o.timeout,
    overlap: o.overlap,
    catchup: o.catchup,
    catchup_limit: o.catchupLimit,
    catchup_window: o.catchupWindow,
    output_limit: o.outputLimit,
    description: o.description,
    paused: o.paused ? true : undefined,
  };
  const shellOnly = Object.entries({ cwd: '--cwd', env: '--env', inheritEnv: '--inherit-env' })
    .filter(([f]) => o[f] !== undefined)
    .map(([, flag]) => flag);
  const httpOnly = ['method', 'header', 'body', 'expect'].filter((f) => o[f] !== undefined);
  if (o.shell !== undefined) {
    raw.shell = {
      command: o.shell,
      cwd: o.cwd,
      env: pairs(o.env as string[] | undefined, '=', '--env', 'KEY=VALUE', problems),
      inherit_env: o.inheritEnv === undefined ? undefined : names(String(o.inheritEnv)),
    };
    for (const f of httpOnly) problems.push(`--${f}: only for an --http target`);
  } else if (shellOnly.length && o.http === undefined) {
    problems.push(`${shellOnly[0]}: only for a --shell target`);
  }
  if (o.http !== undefined) {
    raw.http = {
      url: o.http,
      method: o.method,
      headers: pairs(o.header as string[] | undefined, ':', '--header', '"Name: value"', problems),
      body: o.body,
      expect: o.expect === undefined ? undefined : statuses(String(o.expect), problems),
    };
    if (o.shell === undefined) for (const f of shellOnly) problems.push(`${f}: only for a --shell target`);
  }
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

function pairs(list: string[] | undefined, sep: string, flag: string, form: string, problems: string[]) {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf(sep);
    if (i <= 0) problems.push(`${flag}: ${quote(item)} is not ${form}`);
    else out[item.slice(0, i).trim()] = sep === ':' ? item.slice(i + 1).trim() : item.slice(i + 1);
  }
  return out;
}

/** `--inherit-env PATH,HOME` (or `''` for none): the names, checked with the jobs file's rules. */
function names(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function statuses(text: string, problems: string[]): unknown {
  const list = text.split(',').map((s) => s.trim());
  if (!list.every((s) => /^\d{3}$/.test(s))) {
    problems.push(`--expect: ${quote(text)} is not a comma-separated list of HTTP statuses`);
    return undefined;
  }
  return list.map(Number);
}
