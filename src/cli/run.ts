// `tock run <name> [--idempotency-key K]`: executes now, in this process, with the job's
// semantics, recorded in history. A key already used returns the recorded result instead.

import { randomBytes } from 'node:crypto';
import { notFound, usageError } from '../errors.js';
import { echo, escapeLine, escapeOutput } from '../escape.js';
import { awaitFinal, CLI_LEASE_MS, interruptSignal, runToEnd, startInlineRunner } from '../daemon/inline.js';
import type { OccurrenceRow, Store } from '../store/index.js';
import type { GlobalOptions } from './program.js';
import { durationText, print, printJson, stateColor, useColor, withStore } from './io.js';
import { attemptLine, occurrenceJson } from './occurrence-view.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export default async function run(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const name = String(args[0]);
  const given = o.idempotencyKey === undefined ? undefined : checkKey(String(o.idempotencyKey));
  await useColor(global);
  return withStore(global, async (store) => {
    const job = store.jobs.get(name);
    if (!job) throw notFound(`no job named ${echo(name)} (see tock list)`);
    const now = Date.now();
    const key = given ?? `${name}@manual:${new Date(now).toISOString()}:${randomBytes(4).toString('hex')}`;
    const interrupt = interruptSignal();
    const runner = startInlineRunner(store);
    try {
      const claimed = store.write(() => {
        const existing = store.occurrences.byKey(key);
        if (existing) return { existing };
        const occ = store.occurrences.claim({
          job: name,
          key,
          scheduledAt: now,
          fireAt: now,
          origin: 'manual',
          delivery: job.spec.delivery,
          jobVersion: job.version,
          state: 'running',
          leaseOwner: runner.id,
          leaseExpiresAt: now + CLI_LEASE_MS,
          now,
        });
        return { occ: occ! };
      });
      if ('existing' in claimed) return repeated(store, claimed.existing!, name, global, interrupt.signal);
      const occ = claimed.occ;
      if (!global.json) print(`running ${name} #${occ.id} (key ${key})`);
      await runToEnd(runner, occ, job.spec, 1, interrupt.signal, ({ n, recorded, result }) => {
        if (global.json) return;
        const took = durationText(result.finishedAt - result.startedAt);
        if (recorded.kind === 'retry') print(`attempt ${n} failed after ${took}: ${escapeLine(recorded.reason)}; retrying in ${durationText(recorded.delayMs)}`);
      });
      return report(store, occ.id, global);
    } finally {
      interrupt.dispose();
      runner.close();
    }
  });
}

/**
 * A key given by a person. `@` is tock's own: every key it makes is `<job>@...` (a firing:
 * `<job>@<instant>`; a run without a key: `<job>@manual:...`), so a key without `@` can
 * never take the place of one, and a scheduled firing is never swallowed by a manual run.
 */
function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw usageError('--idempotency-key: use 1 to 255 printable ASCII characters without spaces');
  if (key.includes('@')) {
    throw usageError(
      `--idempotency-key: ${JSON.stringify(key)} contains "@", which tock reserves for its own keys (<job>@<instant> for a scheduled firing); choose a key without "@"`,
    );
  }
  return key;
}

async function repeated(store: Store, occ: OccurrenceRow, name: string, global: GlobalOptions, signal: AbortSignal) {
  if (occ.job !== name) {
    throw usageError(`idempotency key ${occ.idempotency_key} belongs to occurrence #${occ.id} of job ${occ.job}, not ${name}`);
  }
  if (!global.json) print(`key ${occ.idempotency_key} was already used by occurrence #${occ.id}; not executing it again`);
  if (occ.state === 'running' || occ.state === 'pending') {
    if (!global.json) print(`#${occ.id} is ${occ.state}; waiting for its result`);
    await awaitFinal(store, occ.id, signal);
  }
  return report(store, occ.id, global);
}

/** Prints the occurrence as recorded, escaped even into a pipe (it is for reading); exit 0 if it succeeded, 1 otherwise. */
export function report(store: Store, id: number, global: GlobalOptions): number {
  const occ = store.occurrences.byId(id)!;
  const attempts = store.occurrences.attempts(id);
  if (global.json) {
    printJson(occurrenceJson(occ, attempts));
  } else {
    for (const a of attempts) print(attemptLine(a));
    const last = attempts[attempts.length - 1];
    if (last?.output) print(`--- output of attempt ${last.n}${last.output_truncated ? ' (tail)' : ''} ---\n${escapeOutput(last.output.replace(/\n$/, ''))}`);
    print(`${escapeLine(occ.job)} #${occ.id} ${stateColor(occ.state)}${occ.reason ? `: ${escapeLine(occ.reason)}` : ''}`);
  }
  return occ.state === 'succeeded' ? 0 : 1;
}
