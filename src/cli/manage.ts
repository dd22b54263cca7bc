// `tock remove|pause|resume <name>`. Removing keeps the job's history; resuming fires
// from now on and does not replay what the pause skipped.

import { notFound } from '../errors.js';
import { echo } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, withBackend } from './io.js';

type Change = 'removed' | 'paused' | 'resumed';

async function change(name: string, global: GlobalOptions, what: Change) {
  await withBackend(global, async (backend) => {
    const changed = what === 'removed' ? await backend.removeJob(name) : await backend.setPaused(name, what === 'paused', Date.now());
    // setPaused says undefined for a job that is not there; removeJob, false.
    if (changed === undefined || (what === 'removed' && !changed)) throw notFound(`no job named ${echo(name)} (see tock list)`);
    if (global.json) return printJson({ name, [what]: changed, changed });
    print(changed ? `${name} ${what}` : `${name} was already ${what}`);
  });
}

export const remove = (args: unknown[], _o: unknown, g: GlobalOptions) => change(String(args[0]), g, 'removed');
export const pause = (args: unknown[], _o: unknown, g: GlobalOptions) => change(String(args[0]), g, 'paused');
export const resume = (args: unknown[], _o: unknown, g: GlobalOptions) => change(String(args[0]), g, 'resumed');
