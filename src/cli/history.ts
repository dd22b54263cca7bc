// `tock history [name] [--status S] [--limit N] [--since T]`: occurrences, newest first,
// with their attempts, durations, exit codes or HTTP statuses and errors.

import { notFound, usageError } from '../errors.js';
import { echo, escapeLine, quote } from '../escape.js';
import { STATES, type OccurrenceState } from '../store/backend.js';
import type { GlobalOptions } from './program.js';
import { durationText, intFlag, print, printJson, stateColor, useColor, when, withBackend } from './io.js';
import { attemptResultText } from './occurrence-view.js';
import { historyDocument, parseSince } from './documents.js';
import { clip, table } from './table.js';

export default async function history(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const job = args[0] === undefined ? undefined : String(args[0]);
  const limit = intFlag(o.limit, '--limit', 1, 1_000_000, 20);
  const state = o.status === undefined ? undefined : String(o.status);
  if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
    throw usageError(`--status ${quote(state)} is not one of ${STATES.join(', ')}`);
  }
  const sinceMs = o.since === undefined ? undefined : parseSince(String(o.since), Date.now());
  await useColor(global);
  await withBackend(global, async (backend) => {
    const rows = await backend.history({ job, state: state as OccurrenceState | undefined, sinceMs, limit });
    if (rows.length === 0 && job !== undefined && !(await backend.getJob(job)) && (await backend.history({ job, limit: 1 })).length === 0) {
      throw notFound(`no job named ${echo(job)} and no history for it (see tock list)`);
    }
    if (global.json) return printJson(historyDocument(rows));
    if (rows.length === 0) return print('no occurrences yet');
    const lines = rows.map(({ occurrence: occ, attempts }) => {
      const last = attempts[attempts.length - 1];
      const took = last?.finishedAt ? durationText(attempts.reduce((s, a) => s + ((a.finishedAt ?? a.startedAt) - a.startedAt), 0)) : '-';
      const reason = occ.reason === null ? null : escapeLine(occ.reason);
      const result = last ? attemptResultText(last) : (reason ?? '');
      return [
        String(occ.id),
        escapeLine(occ.job),
        when(occ.scheduledAt),
        occ.trigger,
        stateColor(occ.state),
        String(attempts.length),
        took,
        clip(occ.state === 'skipped' || occ.state === 'missed' || occ.state === 'abandoned' ? (reason ?? result) : result, 60),
      ];
    });
    print(table(['ID', 'JOB', 'SCHEDULED', 'TRIGGER', 'STATE', 'ATTEMPTS', 'DURATION', 'RESULT'], lines));
  });
}
