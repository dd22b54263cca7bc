// `tock retry <occurrence-id> [--force]`: a new attempt of a failed or abandoned occurrence,
// under the same idempotency key, executed in this process; SPEC §4 decides what is allowed.

import { notFound, usageError } from '../errors.js';
import { escapeLine } from '../escape.js';
import { CLI_LEASE_MS, interruptSignal, runToEnd, startInlineRunner } from '../daemon/inline.js';
import type { GlobalOptions } from './program.js';
import { intFlag, print, useColor, withBackend } from './io.js';
import { report } from './run.js';

export default async function retry(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const id = intFlag(String(args[0]), 'occurrence id', 1, Number.MAX_SAFE_INTEGER, 0);
  await useColor(global);
  return withBackend(global, async (backend) => {
    const before = await backend.occurrence(id);
    if (!before) throw notFound(`no occurrence #${id} (see tock history)`);
    const job = await backend.getJob(before.job);
    if (!job) throw notFound(`job ${before.job} of occurrence #${id} no longer exists; nothing to run`);
    const interrupt = interruptSignal();
    const runner = await startInlineRunner(backend);
    try {
      const started = await backend.retryOccurrence(id, runner.id, runner.clock.now(), CLI_LEASE_MS, Boolean(o.force));
      if (!started) throw notFound(`no occurrence #${id} (see tock history)`);
      if (started.kind === 'refused') throw usageError(`occurrence #${id} cannot be retried: ${started.why}`);
      if (!global.json) print(`retrying ${escapeLine(before.job)} #${id} as attempt ${started.n} (key ${escapeLine(before.key)})`);
      await runToEnd(runner, started.occurrence, job.spec, started.n, interrupt.signal, () => {});
      return report(backend, id, global);
    } finally {
      interrupt.dispose();
      await runner.close();
    }
  });
}
