// `tock list`: every job with its next run, time left, last result and recent results,
// soonest first, like `systemctl list-timers`.

import { color } from './color.js';
import { escapeLine } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, span, stateColor, useColor, when, withStore } from './io.js';
import { jobJson, recentMarks, results, targetText, upcoming } from './jobs-view.js';
import { describeSchedule } from '../schedule/index.js';
import { clip, table } from './table.js';

const RECENT = 10;

export default async function list(_args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  await useColor(global);
  await withStore(global, (store) => {
    const now = Date.now();
    const jobs = store.read(() =>
      store.jobs.list().map((row) => {
        const next = upcoming(row, now, 1);
        const { last, recent } = results(store, row.name, RECENT);
        return { row, next: next[0], last, recent };
      }),
    );
    jobs.sort((a, b) => (a.next?.fireAt ?? Infinity) - (b.next?.fireAt ?? Infinity) || a.row.name.localeCompare(b.row.name));
    if (global.json) return printJson(jobs.map((j) => jobJson(j.row, j.next ? [j.next] : [], j.last, j.recent)));
    if (jobs.length === 0) return print('no jobs; add one with `tock add` or `tock apply jobs.yaml`');
    const paint = (state: string, mark: string) => stateColor(state).replace(state, mark);
    const rows = jobs.map(({ row, next, last, recent }) => [
      next ? when(next.fireAt) : row.paused ? color.yellow('paused') : row.doneAt !== null ? 'done' : '-',
      next ? span(next.fireAt - now) : '-',
      last?.finished_at ? when(Date.parse(last.finished_at)) : '-',
      last ? stateColor(last.state) : '-',
      recentMarks(recent, paint) || '-',
      color.bold(escapeLine(row.name)),
      clip(escapeLine(describeSchedule(row.spec.schedule)), 36),
      clip(targetText(row.spec.target), 40),
      row.spec.delivery,
    ]);
    print(table(['NEXT', 'LEFT', 'LAST', 'RESULT', 'RECENT', 'JOB', 'SCHEDULE', 'TARGET', 'DELIVERY'], rows));
    print(`\n${jobs.length} job${jobs.length === 1 ? '' : 's'}.`);
  });
}
