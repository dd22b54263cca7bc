// The watch: `late` and `long`, which only the daemon running an occurrence can see. As a
// target starts, its lateness is judged (late: started more than late_after after its
// scheduled instant); while it runs, a timer fires at warn_after (long: still running).
// Each notice is written through the Backend off the loop's path, once per occurrence
// (its notification key), and delivered by the notifier like any other notification.

import { formatDuration } from '../schedule/index.js';
import type { Notice } from '../store/notifications.js';
import type { JobSpec } from '../types.js';
import type { Occurrence } from '../store/backend.js';
import { describe, type RoleContext } from './context.js';

const listens = (spec: JobSpec, event: 'late' | 'long') => spec.notify?.some((c) => c.on.includes(event)) ?? false;

export class Watch {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly ctx: RoleContext) {}

  /** A target starts now: late if its first attempt starts past late_after; long later, on a timer. */
  started(occ: Occurrence, spec: JobSpec, n: number): void {
    const now = this.ctx.clock.now();
    const late = now - occ.scheduledAt;
    if (n === 1 && spec.lateAfterMs !== undefined && late > spec.lateAfterMs && listens(spec, 'late')) {
      this.notice(occ, { occurrenceId: occ.id, event: 'late', reason: `started ${formatDuration(late)} after its scheduled instant (late_after ${formatDuration(spec.lateAfterMs)})` });
    }
    const warn = spec.warnAfterMs;
    if (warn === undefined || !listens(spec, 'long')) return;
    const reason = `still running after ${formatDuration(warn)} (warn_after), attempt ${n}`;
    this.timers.set(occ.id, setTimeout(() => this.notice(occ, { occurrenceId: occ.id, event: 'long', reason }), warn));
  }

  ended(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private notice(occ: Occurrence, n: Notice): void {
    this.timers.delete(occ.id);
    this.ctx.backend.noticeOccurrences(this.ctx.clock.now(), [n]).then(
      (written) => written > 0 && this.ctx.log('noticed', `${occ.job} #${occ.id} ${n.event}: ${n.reason}`),
      (err) => this.ctx.log('error', `${occ.job} #${occ.id} ${n.event} not noted: ${describe(err)}`),
    );
  }
}
