// `tock show <name>`: one job in full, with its next 5 fire times.

import { notFound } from '../errors.js';
import { echo } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withBackend } from './io.js';
import { jobText, results } from './jobs-view.js';
import { upcoming } from '../catalogue/next.js';
import { jobDocument } from './documents.js';

export default async function show(args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  const name = String(args[0]);
  await useColor(global);
  await withBackend(global, async (backend) => {
    const now = Date.now();
    const doc = global.json ? await jobDocument(backend, name, now) : undefined;
    const job = global.json ? undefined : await backend.getJob(name);
    if (!doc && !job) throw notFound(`no job named ${echo(name)} (see tock list)`);
    if (doc) return printJson(doc);
    const { last } = await results(backend, name, 10);
    print(jobText(job!, upcoming(job!, now, 5), now, last));
  });
}
