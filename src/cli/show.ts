// `tock show <name>`: one job in full, with its next 5 fire times.

import { notFound } from '../errors.js';
import { echo } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withStore, iso } from './io.js';
import { jobJson, jobText, results, upcoming } from './jobs-view.js';

export default async function show(args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  const name = String(args[0]);
  await useColor(global);
  await withStore(global, (store) => {
    const row = store.jobs.get(name);
    if (!row) throw notFound(`no job named ${echo(name)} (see tock list)`);
    const now = Date.now();
    const next = upcoming(row, now, 5);
    const { last, recent } = results(store, name, 10);
    if (global.json) return printJson({ ...jobJson(row, next, last, recent), next_runs: next.map((f) => iso(f.fireAt)) });
    print(jobText(row, next, now, last));
  });
}
