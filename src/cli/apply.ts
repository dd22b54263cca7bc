// `tock apply <file> [--prune] [--dry-run]`: the whole file is validated first; then every
// change is written in one transaction, so a file is applied entirely or not at all.

import { loadJobsFile } from '../config/file.js';
import { applyJobs, changes } from '../catalogue/apply.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withBackend } from './io.js';
import { color } from './color.js';

/** Transitional, for today's daemon (src/cli/daemon.ts) until it runs on the Backend. */

export default async function apply(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const file = loadJobsFile(String(args[0]));
  await useColor(global);
  const dryRun = Boolean(o.dryRun);
  const result = await withBackend(global, (backend) => applyJobs(backend, file, { prune: Boolean(o.prune), dryRun }));
  if (global.json) return printJson({ file: file.path, dry_run: dryRun, ...result });
  const verb = dryRun ? 'would be ' : '';
  const all = [...result.created, ...result.updated, ...result.removed, ...result.unchanged];
  const w = Math.max(0, ...all.map((n) => n.length));
  const lines = [
    ...result.created.map((n) => `  ${color.green('+')} ${n.padEnd(w)}  ${verb}created`),
    ...result.updated.map((n) => `  ${color.yellow('~')} ${n.padEnd(w)}  ${verb}updated`),
    ...result.removed.map((n) => `  ${color.red('-')} ${n.padEnd(w)}  ${verb}removed`),
    ...result.unchanged.map((n) => `    ${n.padEnd(w)}  unchanged`),
  ];
  print(lines.join('\n'));
  print(`${dryRun ? 'dry run, nothing changed: ' : ''}${changes(result)}`);
}
