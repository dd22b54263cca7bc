// `tock apply <file> [--prune] [--dry-run]`: the whole file is validated first; then every
// change is written in one transaction, so a file is applied entirely or not at all.

import { loadJobsFile } from '../config/file.js';
import { planApply } from '../config/plan.js';
import type { Store } from '../store/index.js';
import type { GlobalOptions } from './program.js';
import { print, printJson, useColor, withStore } from './io.js';
import { color } from './color.js';
import type { JobSpec } from '../types.js';
import { rememberNext } from './jobs-view.js';

export default async function apply(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const file = loadJobsFile(String(args[0]));
  await useColor(global);
  await withStore(global, (store) => {
    const result = applyFile(store, file.path, file.jobs, { prune: Boolean(o.prune), dryRun: Boolean(o.dryRun) }, Date.now());
    if (global.json) return printJson({ file: file.path, dry_run: Boolean(o.dryRun), ...result });
    const verb = o.dryRun ? 'would be ' : '';
    const all = [...result.created, ...result.updated, ...result.removed, ...result.unchanged];
    const w = Math.max(0, ...all.map((n) => n.length));
    const lines = [
      ...result.created.map((n) => `  ${color.green('+')} ${n.padEnd(w)}  ${verb}created`),
      ...result.updated.map((n) => `  ${color.yellow('~')} ${n.padEnd(w)}  ${verb}updated`),
      ...result.removed.map((n) => `  ${color.red('-')} ${n.padEnd(w)}  ${verb}removed`),
      ...result.unchanged.map((n) => `    ${n.padEnd(w)}  unchanged`),
    ];
    print(lines.join('\n'));
    print(
      `${o.dryRun ? 'dry run, nothing changed: ' : ''}${result.created.length} created, ${result.updated.length} updated, ` +
        `${result.unchanged.length} unchanged, ${result.removed.length} removed`,
    );
  });
}

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

export interface ApplyOptions {
  prune: boolean;
  dryRun: boolean;
  /** Prune only the jobs that came from this same file (the daemon's --jobs). */
  pruneOwnOnly?: boolean;
}

/** Applies already validated jobs in one transaction (the daemon's --jobs uses this too). */
export function applyFile(store: Store, source: string, jobs: JobSpec[], opts: ApplyOptions, now: number): ApplyResult {
  return store.write(() => {
    const stored = store.jobs.list();
    const plan = planApply(stored, jobs, opts.prune);
    if (opts.pruneOwnOnly) {
      const owned = new Set(stored.filter((r) => r.source === source).map((r) => r.name));
      plan.remove = plan.remove.filter((name) => owned.has(name));
    }
    if (!opts.dryRun) {
      for (const spec of plan.create) rememberNext(store, store.jobs.insert(spec, source, now), now);
      for (const u of plan.update) {
        store.jobs.update(u.spec.name, u.spec, source, u.scheduleChanged ? now : u.before.cursorAt, now);
        rememberNext(store, store.jobs.get(u.spec.name)!, now);
      }
      for (const name of plan.remove) store.jobs.remove(name);
    }
    return {
      created: plan.create.map((s) => s.name),
      updated: plan.update.map((u) => u.spec.name),
      unchanged: plan.unchanged,
      removed: plan.remove,
    };
  });
}
