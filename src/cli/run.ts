// `tock run <name> [--idempotency-key K]`: executes now, in this process, with the job's
// semantics, recorded in history. A key already used returns the recorded result instead.

import { randomBytes } from 'node:crypto';
import { notFound, usageError } from '../errors.js';
import { echo, escapeLine, escapeOutput } from '../escape.js';
import { awaitFinal, CLI_LEASE_MS, interruptSignal, runToEnd, startInlineRunner } from '../daemon/inline.js';
import type { Backend, Occurrence } from '../store/backend.js';
import type { GlobalOptions } from './program.js';
import { durationText, print, printJson, stateColor, useColor, withBackend } from './io.js';
import { attemptLine, occurrenceJson } from './occurrence-view.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export default async function run(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const name = String(args[0]);
  const given = o.idempotencyKey === undefined ? undefined : checkKey(String(o.idempotencyKey));
  await useColor(global);
  return withBackend(global, async (backend) => {
    const job = await backend.getJob(name);
    if (!job) throw notFound(`no job named ${echo(name)} (see tock list)`);
    const now = Date.now();
    const key = given ?? `${name}@manual:${new Date(now).toISOString()}:${randomBytes(4).toString('hex')}`;
    const interrupt = interruptSignal();
    const runner = await startInlineRunner(backend);
    try {
      const claimed = await backend.claimManual({ job: name, key, runner: runner.id, now, leaseMs: CLI_LEASE_MS });
      if (!claimed) throw notFound(`no job named ${echo(name)} (see tock list)`);
      if (claimed.existing) return repeated(backend, claimed.occurrence, name, global, interrupt.signal);
      const occ = claimed.occurrence;
      if (!global.json) print(`running ${name} #${occ.id} (key ${key})`);
      await runToEnd(runner, occ, job.spec, 1, interrupt.signal, ({ n, recorded, result }) => {
        if (global.json) return;
        const took = durationText(result.finishedAt - result.startedAt);
        if (recorded.kind === 'retry') print(`attempt ${n} failed after ${took}: ${escapeLine(recorded.reason)}; retrying in ${durationText(recorded.delayMs)}`);
      });
      return report(backend, occ.id, global);
    } finally {
      interrupt.dispose();
      await runner.close();
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

async function repeated(backend: Backend, occ: Occurrence, name: string, global: GlobalOptions, signal: AbortSignal) {
  if (occ.job !== name) {
    throw usageError(`idempotency key ${occ.key} belongs to occurrence #${occ.id} of job ${occ.job}, not ${name}`);
  }
  if (!global.json) print(`key ${occ.key} was already used by occurrence #${occ.id}; not executing it again`);
  if (occ.state === 'running' || occ.state === 'pending') {
    if (!global.json) print(`#${occ.id} is ${occ.state}; waiting for its result`);
    await awaitFinal(backend, occ.id, signal);
  }
  return report(backend, occ.id, global);
}

/** Prints the occurrence as recorded, escaped even into a pipe (it is for reading); exit 0 if it succeeded, 1 otherwise. */
export async function report(backend: Backend, id: number, global: GlobalOptions): Promise<number> {
  const occ = (await backend.occurrence(id))!;
  const attempts = await backend.attempts(id, true);
  if (global.json) {
    printJson(occurrenceJson(occ, attempts));
  } else {
    for (const a of attempts) print(attemptLine(a));
    const last = attempts[attempts.length - 1];
    if (last?.output) print(`--- output of attempt ${last.n}${last.outputTruncated ? ' (tail)' : ''} ---\n${escapeOutput(last.output.replace(/\n$/, ''))}`);
    print(`${escapeLine(occ.job)} #${occ.id} ${stateColor(occ.state)}${occ.reason ? `: ${escapeLine(occ.reason)}` : ''}`);
  }
  return occ.state === 'succeeded' ? 0 : 1;
}
