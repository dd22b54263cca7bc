// `tock show <name>`: one job in full, with its next 5 fire times.

import { notFound } from '../errors.js';
import { echo } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withBackend, iso } from './io.js';
import { jobJson, jobText, results } from './jobs-view.js';
import { upcoming } from '../catalogue/next.js';

export default async function show(args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  const name = String(args[0]);
  await useColor(global);
  await withBackend(global, async (backend) => {
    const job = await backend.getJob(name);
    if (!job) throw notFound(`no job named ${echo(name)} (see tock list)`);
    const now = Date.now();
    const next = upcoming(job, now, 5);
    const { last, recent } = await results(backend, name, 10);
    if (global.json) return printJson({ ...jobJson(job, next, last, recent), next_runs: next.map((f) => iso(f.fireAt)) });
    print(jobText(job, next, now, last));
  });
}
