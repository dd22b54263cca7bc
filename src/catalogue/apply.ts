// Applying a validated jobs file to the store: `tock apply` and the daemon's --jobs (at start
// and on SIGHUP) share it. The backend plans and writes in one transaction, so a file is
// applied entirely or not at all, and never interleaves with another `tock add` or apply.

import type { ApplyResult, Backend } from '../store/backend.js';
import type { JobSpec } from '../types.js';
import { checkChannels } from '../notify/sendmail.js';

export interface ApplyFileOptions {
  /** Remove the stored jobs the file does not name. */
  prune: boolean;
  /** With prune, only those that came from this same file (the daemon owns its --jobs file's jobs). */
  pruneOwnOnly?: boolean;
  dryRun?: boolean;
  now?: number;
}

/** What a jobs file would change, and changes it unless a dry run. */
export async function applyJobs(backend: Backend, file: { path: string; jobs: JobSpec[] }, o: ApplyFileOptions): Promise<ApplyResult> {
  // An email channel without a sendmail is refused now, not found out at the first failure.
  checkChannels(file.jobs);
  return backend.applyJobs(file.jobs, { source: file.path, prune: o.prune, pruneOwnOnly: o.pruneOwnOnly, dryRun: o.dryRun, now: o.now ?? Date.now() });
}

/** `2 created, 1 updated, 5 unchanged, 0 removed`. */
export function changes(r: ApplyResult): string {
  return `${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged, ${r.removed.length} removed`;
}

/** Applies the file and returns the line the daemon logs: `<path>: 1 created, ...`. */
export async function applyJobsFile(backend: Backend, file: { path: string; jobs: JobSpec[] }, o: ApplyFileOptions): Promise<string> {
  return `${file.path}: ${changes(await applyJobs(backend, file, o))}`;
}
