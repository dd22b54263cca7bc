// A job's next fire times as `tock list`, `show` and `add` print them: the one the store
// remembered when it still holds, else computed from the job's schedule.

import { compileJob, firing, nextFirings, type Firing } from '../schedule/for-job.js';
import type { Job } from '../store/backend.js';

/** The next n firings from `now`, or none for a paused or finished job. */
export function upcoming(job: Job, now: number, n: number): Firing[] {
  if (job.paused || job.doneAt !== null) return [];
  const after = Math.max(now, job.cursorAt);
  // The remembered next firing answers for any `after` between the instant it was computed
  // from and itself (there is no firing in between), as long as the job is unchanged.
  const known = job.next;
  if (n === 1 && known && known.version === job.version && known.after <= after && (known.at === null || after < known.at)) {
    return known.at === null ? [] : [firing(job.spec.name, job.spec.jitterMs, known.at)];
  }
  return nextFirings(job, compileJob(job), after, n);
}
