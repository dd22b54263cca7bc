// One job definition, from the jobs file or from `tock add` flags, checked field by field
// into a JobSpec. Every problem is collected with its path; nothing stops at the first.
// The fields are read by role: timing.ts (schedule and window), targets.ts (shell and
// http), policies.ts (delivery, retries and the rest), notify.ts (notification channels),
// all through reader.ts.

import { echo, quote } from '../escape.js';
import { checkTimezone, parseDuration } from '../schedule/index.js';
import { DEFAULTS, type JobSpec } from '../types.js';
import { readNotifyFields } from './notify.js';
import { readDelivery, readPolicies } from './policies.js';
import { dropUndefined, kind, Reader, type Locate, type Raw } from './reader.js';
import { readTarget } from './targets.js';
import { readSchedule, readWindow } from './timing.js';

// cli/add.ts reads a job from flags with the same Raw.
export type { Raw } from './reader.js';

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
  'notify',
  'late_after',
  'warn_after',
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

/**
 * Validates one job. `defaults` supplies policy fields the job leaves out (the file's
 * `defaults:`). Returns undefined when anything is wrong; the problems say what.
 */
export function readJob(raw: Raw, at: Locate, problems: string[], defaults: Raw = {}): JobSpec | undefined {
  const before = problems.length;
  for (const field of Object.keys(raw)) {
    if (!JOB_FIELDS.has(field)) problems.push(`${at(echo(field))}: unknown field (fields: ${[...JOB_FIELDS].join(', ')})`);
  }
  const merged: Raw = { ...defaults, ...dropUndefined(raw) };
  const r = new Reader(merged, (f) => (f in raw || !(f in defaults) ? at(f) : `defaults.${f}`), problems);
  const spec = readFields(r, raw);
  if (problems.length > before) return undefined;
  return dropUndefined(spec) as JobSpec;
}

/** Every field, in the order their problems are reported (and the spec's keys are stored). */
function readFields(r: Reader, raw: Raw): Partial<JobSpec> {
  const nameProblem = checkName(r.value('name'));
  if (nameProblem) r.fail('name', nameProblem);
  const timezone = r.has('timezone') ? r.parse('timezone', checkTimezone) : DEFAULTS.timezone;
  const schedule = timezone ? readSchedule(r, timezone) : undefined;
  const window = readWindow(r, timezone ?? DEFAULTS.timezone);
  const target = readTarget(r);
  const { delivery, retries } = readDelivery(r, raw);
  const policies = readPolicies(r, delivery);
  return {
    name: r.value('name') as string,
    description: r.string('description'),
    schedule,
    ...window,
    jitterMs: r.has('jitter') ? r.parse('jitter', parseDuration) : 0,
    target,
    delivery,
    retries,
    ...policies,
    ...readNotifyFields(r, policies.timeoutMs),
    paused: r.boolean('paused'),
  };
}
