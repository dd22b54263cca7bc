// `tock list`: every job with its next run, time left, last result and recent results,
// soonest first, like `systemctl list-timers`.

import { color } from './color.js';
import { escapeLine } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, span, stateColor, useColor, when, withBackend } from './io.js';
import { recentMarks, targetText } from './jobs-view.js';
import { listDocument, listedJobs } from './documents.js';
import { describeSchedule } from '../schedule/index.js';
import { clip, table } from './table.js';

const RECENT = 10;

export default async function list(_args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  await useColor(global);
  await withBackend(global, async (backend) => {
    const now = Date.now();
    const jobs = await listedJobs(backend, now, RECENT);
    if (global.json) return printJson(listDocument(jobs));
    if (jobs.length === 0) return print('no jobs; add one with `tock add` or `tock apply jobs.yaml`');
    const paint = (state: string, mark: string) => stateColor(state).replace(state, mark);
    const rows = jobs.map(({ job, next, last, recent }) => [
      next ? when(next.fireAt) : job.paused ? color.yellow('paused') : job.doneAt !== null ? 'done' : '-',
      next ? span(next.fireAt - now) : '-',
      last?.finished_at ? when(Date.parse(last.finished_at)) : '-',
      last ? stateColor(last.state) : '-',
      recentMarks(recent, paint) || '-',
      color.bold(escapeLine(job.name)),
      clip(escapeLine(describeSchedule(job.spec.schedule)), 36),
      clip(targetText(job.spec.target), 40),
      job.spec.delivery,
    ]);
    print(table(['NEXT', 'LEFT', 'LAST', 'RESULT', 'RECENT', 'JOB', 'SCHEDULE', 'TARGET', 'DELIVERY'], rows));
    print(`\n${jobs.length} job${jobs.length === 1 ? '' : 's'}.`);
  });
}
