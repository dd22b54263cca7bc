// `tock stats [NAME] [--since T]`: per job runs by state, success rate, duration and
// lateness percentiles, retries and last success; --json for the document /api/v1/stats serves.

import { notFound } from '../errors.js';
import { echo } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withBackend } from './io.js';
import { parseSince } from './documents.js';
import { statsDocument, statsText } from './stats-view.js';

export default async function stats(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const job = args[0] === undefined ? undefined : String(args[0]);
  const sinceMs = o.since === undefined ? undefined : parseSince(String(o.since), Date.now());
  await useColor(global);
  await withBackend(global, async (backend) => {
    const doc = await statsDocument(backend, job, sinceMs);
    if (job !== undefined && (doc.jobs as unknown[]).length === 0 && !(await backend.getJob(job))) {
      throw notFound(`no job named ${echo(job)} and no history for it (see tock list)`);
    }
    if (global.json) return printJson(doc);
    print(statsText(doc));
  });
}
