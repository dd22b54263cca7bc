// `tock retry <occurrence-id> [--force]`: a new attempt of a failed or abandoned occurrence,
// under the same idempotency key, executed in this process; SPEC §4 decides what is allowed.

import { notFound, usageError } from '../errors.js';
import { escapeLine } from '../escape.js';
import { CLI_LEASE_MS, interruptSignal, runToEnd, startInlineRunner } from '../daemon/inline.js';
import { mayRetry } from '../semantics/delivery.js';
import type { GlobalOptions } from './program.js';
import { intFlag, print, useColor, withStore } from './io.js';
import { report } from './run.js';

export default async function retry(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const id = intFlag(String(args[0]), 'occurrence id', 1, Number.MAX_SAFE_INTEGER, 0);
  await useColor(global);
  return withStore(global, async (store) => {
    const before = store.occurrences.byId(id);
    if (!before) throw notFound(`no occurrence #${id} (see tock history)`);
    const job = store.jobs.get(before.job);
    if (!job) throw notFound(`job ${before.job} of occurrence #${id} no longer exists; nothing to run`);
    const interrupt = interruptSignal();
    const runner = startInlineRunner(store);
    try {
      const started = store.write(() => {
        const occ = store.occurrences.byId(id)!;
        const verdict = mayRetry(occ.delivery, occ.state, Boolean(o.force));
        if (!verdict.ok) throw usageError(`occurrence #${id} cannot be retried: ${verdict.why}`);
        const n = occ.attempts + 1;
        const now = Date.now();
        store.occurrences.setTrigger(id, 'retry');
        store.occurrences.startAttempt(id, n, 'retry', runner.id, now + CLI_LEASE_MS, now);
        return { occ: { ...occ, trigger: 'retry' as const }, n };
      });
      if (!global.json) print(`retrying ${escapeLine(before.job)} #${id} as attempt ${started.n} (key ${escapeLine(before.idempotency_key)})`);
      await runToEnd(runner, started.occ, job.spec, started.n, interrupt.signal, () => {});
      return report(store, id, global);
    } finally {
      interrupt.dispose();
      runner.close();
    }
  });
}
