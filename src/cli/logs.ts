// `tock logs <occurrence-id>`: the captured output of every attempt of one occurrence.

import { notFound } from '../errors.js';
import type { GlobalOptions } from './program.js';
import { intFlag, iso, print, printJson, stateColor, useColor, when, withStore } from './io.js';
import { attemptJson, attemptLine } from './occurrence-view.js';

export default async function logs(args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  const id = intFlag(String(args[0]), 'occurrence id', 1, Number.MAX_SAFE_INTEGER, 0);
  await useColor(global);
  await withStore(global, (store) => {
    const occ = store.occurrences.byId(id);
    if (!occ) throw notFound(`no occurrence #${id} (see tock history)`);
    const attempts = store.occurrences.attempts(id);
    if (global.json) {
      return printJson({
        id,
        job: occ.job,
        scheduled_at: iso(occ.scheduled_at),
        idempotency_key: occ.idempotency_key,
        state: occ.state,
        attempts: attempts.map((a) => ({ ...attemptJson(a), output: a.output ?? '' })),
      });
    }
    print(`${occ.job} #${id} scheduled ${when(occ.scheduled_at)}, ${stateColor(occ.state)}${occ.reason ? `: ${occ.reason}` : ''}`);
    if (attempts.length === 0) print('no attempts: it never executed');
    for (const a of attempts) {
      print(`\n=== ${attemptLine(a)} (started ${when(a.started_at)})`);
      if (a.output_truncated) print(`(${a.output_bytes} bytes produced; the tail is kept)`);
      print(a.output ? a.output.replace(/\n$/, '') : '(no output)');
    }
  });
}
