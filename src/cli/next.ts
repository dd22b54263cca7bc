// `tock next <job or cron expression> [-n N] [--tz Z] [--from T]`: previews fire times
// with the same schedule maths the daemon uses.

import { notFound, usageError } from '../errors.js';
import { echo } from '../escape.js';
import { NAME_PATTERN } from '../config/job.js';
import { checkTimezone, formatInstant, nextFires, parseCron, parseInstant } from '../schedule/index.js';
import { compileJob, nextFirings } from '../schedule/for-job.js';
import type { GlobalOptions } from './program.js';
import { intFlag, print, printJson, withBackend } from './io.js';

export default async function next(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const what = String(args[0]);
  const n = intFlag(o.n, '-n', 1, 10_000, 5);
  const tz = o.tz === undefined ? undefined : guard('--tz', () => checkTimezone(String(o.tz)));
  const from = (zone: string) =>
    o.from === undefined ? Date.now() : guard('--from', () => parseInstant(String(o.from), zone));
  let times: number[];
  let zone: string;
  if (NAME_PATTERN.test(what)) {
    const job = await withBackend(global, (backend) => backend.getJob(what));
    if (!job) throw notFound(`no job named ${echo(what)}, and it is not a cron expression (see tock list)`);
    zone = tz ?? job.spec.schedule.timezone;
    times = nextFirings(job, compileJob(job), from(zone), n).map((f) => f.fireAt);
  } else {
    guard(undefined, () => parseCron(what));
    zone = tz ?? 'UTC';
    times = nextFires({ schedule: { kind: 'cron', expr: what, timezone: zone }, jitterMs: 0, anchorMs: 0 }, from(zone), n);
  }
  if (global.json) return printJson(times.map((t) => new Date(t).toISOString()));
  for (const t of times) print(`${formatInstant(t, zone!)}  ${new Date(t).toISOString()}`);
  if (times.length === 0) print('never fires again');
}

function guard<T>(flag: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const message = (err as Error).message;
    throw usageError(flag ? `${flag}: ${message}` : message);
  }
}
