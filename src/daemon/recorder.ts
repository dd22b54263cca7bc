// The recorder: finished targets' results to the store, batched. Results that finish in
// the same turn of the event loop go in one call, and the backend joins calls that meet
// at its write lock into one commit, so many targets finishing at once cost one disk sync.
// The claim of the slots they free rides along. A busy or full store is retried until the
// write lands: a result is never dropped.

import type { AttemptRecord, Recorded } from '../store/backend.js';
import { delay } from './clock.js';
import type { Claimer } from './claimer.js';
import { describe, isTransient, type RoleContext } from './context.js';
import { faultPoint } from './fault.js';
import type { Finished, Slots } from './slots.js';

interface Queued {
  f: Finished;
  resolve: (r: Recorded) => void;
  reject: (e: unknown) => void;
}

export class Recorder {
  /** Results waiting for the next turn of the event loop: a flush is scheduled while it is not empty. */
  private queue: Queued[] = [];

  constructor(
    private readonly ctx: RoleContext,
    private readonly claimer: Claimer,
    private readonly slots: Slots,
    private readonly random: () => number,
  ) {}

  record(f: Finished): Promise<Recorded> {
    const { occ, n, result } = f;
    this.ctx.observer?.attempt({ job: occ.job, n, origin: occ.origin, scheduledAt: occ.scheduledAt, startedAt: result.startedAt, finishedAt: result.finishedAt });
    return new Promise((resolve, reject) => {
      if (this.queue.push({ f, resolve, reject }) > 1) return;
      setImmediate(() => {
        const taken = this.queue;
        this.queue = [];
        void this.write(taken);
      });
    });
  }

  private async write(taken: Queued[]): Promise<void> {
    faultPoint('before-record'); // test-only: the target has ended, its result is not yet written
    const records: AttemptRecord[] = taken.map(({ f }) => ({ occurrenceId: f.occ.id, n: f.n, result: f.result, spec: f.spec, random: this.random() }));
    for (let wait = 50; ; wait = Math.min(wait * 2, 5_000)) {
      // The slots these results free, claimed in the same commit.
      const ride = this.claimer.ride(taken.filter(({ f }) => this.slots.has(f.occ.id)).length);
      try {
        const out = await this.ctx.backend.recordAttempts(this.ctx.id, this.ctx.clock.now(), records, ride?.req);
        faultPoint('after-record'); // test-only: the result (and its notifications) written, nothing delivered
        this.claimer.settle(ride, out.claimed);
        taken.forEach((q, i) => q.resolve(out.recorded[i]));
        return;
      } catch (err) {
        this.claimer.settle(ride, undefined);
        if (!isTransient(err) || (this.ctx.stopping() && wait >= 5_000)) {
          for (const q of taken) q.reject(err);
          return;
        }
        const which = taken.map(({ f }) => `#${f.occ.id} ${f.occ.job}`).join(', ');
        this.ctx.log('error', `recording ${which}: ${describe(err)}; retrying in ${wait} ms`);
        await delay(wait);
      }
    }
  }
}
