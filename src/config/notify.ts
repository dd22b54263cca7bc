// A job's `notify:` list and the two thresholds its `late` and `long` events need
// (`late_after`, `warn_after`), each channel checked with its path
// (`jobs[2].notify[0].on: ...`). Whether this machine can send mail is checked at apply
// time, by checkChannels in src/notify/sendmail.ts.

import { echo } from '../escape.js';
import { parsePositiveDuration } from '../schedule/index.js';
import { argProblem } from '../target-rules.js';
import { NOTIFY_EVENTS, type JobSpec, type NotifyChannel, type NotifyEvent, type NotifyTarget } from '../types.js';
import { isMapping, kind, Reader, show, type Raw } from './reader.js';
import { checkUrl, readHeaders } from './targets.js';

const TARGETS = ['shell', 'http', 'email'] as const;
const CHANNEL_FIELDS = ['on', 'after', ...TARGETS];
const HTTP_FIELDS = ['url', 'method', 'headers'];
const HTTP_METHODS = ['POST', 'PUT', 'PATCH'];
/** A local user (`root`, as cron's MAILTO allows) or user@host; nothing a header or argv could misread. */
const ADDRESS = /^[A-Za-z0-9._%+=][A-Za-z0-9._%+=-]*(@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)?$/;

type NotifyFields = Pick<JobSpec, 'notify' | 'lateAfterMs' | 'warnAfterMs'>;

/** `notify`, `late_after` and `warn_after`; `timeoutMs` bounds `warn_after`. */
export function readNotifyFields(r: Reader, timeoutMs: number | undefined): NotifyFields {
  const lateAfterMs = r.has('late_after') ? r.parse('late_after', parsePositiveDuration) : undefined;
  const warnAfterMs = r.has('warn_after') ? r.parse('warn_after', parsePositiveDuration) : undefined;
  if (warnAfterMs !== undefined && timeoutMs !== undefined && warnAfterMs >= timeoutMs) {
    r.fail('warn_after', 'must be shorter than the timeout (a job past its timeout is stopped, not long)');
  }
  const notify = readNotify(r);
  for (const [event, field, value] of [['late', 'late_after', lateAfterMs], ['long', 'warn_after', warnAfterMs]] as const) {
    if (value === undefined && !r.has(field) && notify?.some((c) => c.on.includes(event))) {
      r.fail('notify', `the ${event} event needs ${field} on the job (or in defaults), e.g. ${field}: 5m`);
    }
  }
  return { notify, lateAfterMs, warnAfterMs };
}

function readNotify(r: Reader): NotifyChannel[] | undefined {
  const v = r.value('notify');
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return r.fail('notify', `expected a list of channels, e.g. - { on: [failed], email: ops@example.com }, got ${kind(v)}`);
  const base = r.at('notify');
  const channels = v.map((entry, i) => readChannel(new Reader(isMapping(entry) ? entry : {}, (f) => `${base}[${i}].${f}`, r.problems), entry));
  return channels.every((c) => c !== undefined) ? (channels as NotifyChannel[]) : undefined;
}

function readChannel(r: Reader, entry: unknown): NotifyChannel | undefined {
  if (!isMapping(entry)) {
    r.problems.push(`${r.at('').slice(0, -1)}: expected a mapping with on: and one of ${TARGETS.join(', ')}, got ${kind(entry)}`);
    return undefined;
  }
  const before = r.problems.length;
  const unknown = Object.keys(entry).filter((f) => !CHANNEL_FIELDS.includes(f));
  for (const f of unknown) r.fail(echo(f), `unknown field (fields: ${CHANNEL_FIELDS.join(', ')})`);
  const on = readEvents(r);
  const after = r.integer('after', 1, 1_000_000);
  // `slack: ...` is reported as unknown: saying again that the channel has no target adds nothing.
  const target = unknown.length > 0 && !TARGETS.some((t) => t in entry) ? undefined : readChannelTarget(r, entry);
  if (r.problems.length > before || !on || !target) return undefined;
  return after === undefined ? { on, target } : { on, after, target };
}

function readEvents(r: Reader): NotifyEvent[] | undefined {
  const v = r.value('on');
  const expected = `expected a list of events, e.g. [failed] (events: ${NOTIFY_EVENTS.join(', ')})`;
  if (v === undefined || v === null) return r.fail('on', `a channel needs on: ${expected}`);
  if (!Array.isArray(v) || v.length === 0) return r.fail('on', `${expected}, got ${Array.isArray(v) ? 'an empty list' : kind(v)}`);
  for (const e of v) {
    if (!(NOTIFY_EVENTS as readonly unknown[]).includes(e)) {
      return r.fail('on', `unknown event ${show(e)} (expected ${NOTIFY_EVENTS.join(', ')})`);
    }
  }
  return [...new Set(v as NotifyEvent[])];
}

function readChannelTarget(r: Reader, entry: Raw): NotifyTarget | undefined {
  const given = TARGETS.filter((t) => entry[t] !== undefined && entry[t] !== null);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'a channel needs a target' : `give one target, not ${given.join(' and ')}`;
    return r.fail(given[1] ?? 'on', `${what}: shell: CMD, http: {url, headers} or email: ADDRESS`);
  }
  if (given[0] === 'shell') return readShellChannel(r);
  if (given[0] === 'http') return readHttpChannel(r, entry.http);
  return readEmailChannel(r);
}

function readShellChannel(r: Reader): NotifyTarget | undefined {
  const command = r.string('shell');
  if (command === undefined) return undefined;
  if (command.trim() === '') return r.fail('shell', 'the command is empty');
  const problem = argProblem(command);
  return problem ? r.fail('shell', `the command ${problem}`) : { kind: 'shell', command };
}

/** `http: URL` or `http: {url, headers, method}`; the method defaults to POST (the body is the event as JSON). */
function readHttpChannel(r: Reader, v: unknown): NotifyTarget | undefined {
  if (typeof v !== 'string' && !isMapping(v)) return r.fail('http', `expected a URL or a mapping {url, headers}, got ${kind(v)}`);
  const sub = r.child('http', typeof v === 'string' ? { url: v } : v);
  for (const f of Object.keys(isMapping(v) ? v : {})) if (!HTTP_FIELDS.includes(f)) sub.fail(echo(f), `unknown field (fields: ${HTTP_FIELDS.join(', ')})`);
  const url = sub.string('url');
  if (url === undefined) return sub.fail('url', 'a webhook needs a url');
  const urlProblem = checkUrl(url);
  if (urlProblem) return sub.fail('url', urlProblem);
  const method = (sub.string('method') ?? 'POST').toUpperCase();
  if (!HTTP_METHODS.includes(method)) return sub.fail('method', `${show(sub.value('method'))} is not one of ${HTTP_METHODS.join(', ')}`);
  return { kind: 'http', url, method, headers: readHeaders(sub) };
}

function readEmailChannel(r: Reader): NotifyTarget | undefined {
  const to = r.string('email');
  if (to === undefined) return undefined;
  if (!ADDRESS.test(to)) return r.fail('email', `${show(to)} is not a mail address (e.g. ops@example.com, or a local user)`);
  return { kind: 'email', to };
}
