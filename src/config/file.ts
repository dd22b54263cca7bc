// The YAML jobs file: `defaults:` and `jobs:`, read as a whole. Any bad field anywhere
// rejects the file, with the path of every problem, so nothing is half-applied.

import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { usageError, ValidationErrors } from '../errors.js';
import type { JobSpec } from '../types.js';
import { POLICY_FIELDS, readJob } from './job.js';
import { isMapping, type Raw } from './reader.js';
import { echo, quote } from '../escape.js';

export interface JobsFile {
  path: string;
  jobs: JobSpec[];
}

export function loadJobsFile(file: string): JobsFile {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the jobs file ${echo(file, 200)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { path: abs, jobs: parseJobsFile(text, file) };
}

export function parseJobsFile(text: string, file: string): JobSpec[] {
  const top = readYaml(text, file);
  const problems: string[] = [];
  if (!isMapping(top)) throw new ValidationErrors([`${file}: expected a mapping with a jobs: list`]);
  for (const key of Object.keys(top)) {
    if (key !== 'defaults' && key !== 'jobs') problems.push(`${echo(key)}: unknown top-level field (fields: defaults, jobs)`);
  }
  const defaults = readDefaults(top.defaults, problems);
  const list = top.jobs;
  if (!Array.isArray(list)) {
    problems.push(`jobs: expected a list of jobs, got ${list === undefined ? 'nothing' : typeof list}`);
    throw new ValidationErrors(problems);
  }
  const jobs = readJobs(list, defaults, problems);
  if (problems.length > 0) throw new ValidationErrors(problems);
  return jobs;
}

/** The document as plain values; YAML that cannot be read is a usage error saying where. */
function readYaml(text: string, file: string): unknown {
  const lines = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  } catch (err) {
    // The parser recurses per nesting level: a pathological file exhausts the stack.
    if (!(err instanceof RangeError)) throw err;
    throw usageError(`${file} cannot be read as YAML: it is nested too deeply (${err.message})`);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    const where = ` at line ${pos.line}, column ${pos.col}`;
    throw usageError(`${file} is not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS();
  } catch (err) {
    // e.g. aliases that expand exponentially ("billion laughs"): bad input, not an internal error
    throw usageError(`${file} cannot be read as YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Each entry of `jobs:`, with its path; a name used twice is a problem of the second. */
function readJobs(list: unknown[], defaults: Raw, problems: string[]): JobSpec[] {
  const jobs: JobSpec[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    if (!isMapping(item)) {
      problems.push(`jobs[${i}]: expected a mapping (name, schedule, target...)`);
      return;
    }
    const spec = readJob(item, (f) => `jobs[${i}].${f}`, problems, defaults);
    const name = item.name;
    if (typeof name === 'string') {
      const first = seen.get(name);
      if (first !== undefined) problems.push(`jobs[${i}].name: ${quote(name)} is already used by jobs[${first}]`);
      else seen.set(name, i);
    }
    if (spec) jobs.push(spec);
  });
  return jobs;
}

function readDefaults(v: unknown, problems: string[]): Raw {
  if (v === undefined || v === null) return {};
  if (!isMapping(v)) {
    problems.push('defaults: expected a mapping of policy fields');
    return {};
  }
  for (const key of Object.keys(v)) {
    if (!(POLICY_FIELDS as readonly string[]).includes(key)) {
      problems.push(`defaults.${echo(key)}: not a policy field (fields: ${POLICY_FIELDS.join(', ')})`);
    }
  }
  return v;
}
