// The job catalogue's writes on SQLite: each runs inside one write transaction of its caller
// (SqliteBackend), so reading the stored jobs, planning and writing cannot interleave with
// another process's `tock add` or apply.

import { planApply } from '../../config/plan.js';
import { compileJob, nextFirings } from '../../schedule/for-job.js';
import type { JobSpec } from '../../types.js';
import type { ApplyOptions, ApplyResult } from '../backend.js';
import type { Connection } from './connection.js';
import type { JobRow } from './jobs.js';

/** Plans the jobs against the stored ones (src/config/plan.ts) and writes the plan unless a dry run. */
export function applyPlan(conn: Connection, specs: JobSpec[], o: ApplyOptions): ApplyResult {
  const stored = conn.jobs.list();
  const plan = planApply(stored, specs, o.prune);
  if (o.pruneOwnOnly) {
    const owned = new Set(stored.filter((r) => r.source === o.source).map((r) => r.name));
    plan.remove = plan.remove.filter((name) => owned.has(name));
  }
  if (!o.dryRun) {
    for (const spec of plan.create) rememberNext(conn, conn.jobs.insert(spec, o.source, o.now), o.now);
    for (const u of plan.update) {
      conn.jobs.update(u.spec.name, u.spec, o.source, u.scheduleChanged ? o.now : u.before.cursorAt, o.now);
      rememberNext(conn, conn.jobs.get(u.spec.name)!, o.now);
    }
    for (const name of plan.remove) conn.jobs.remove(name);
  }
  return {
    created: plan.create.map((s) => s.name),
    updated: plan.update.map((u) => u.spec.name),
    unchanged: plan.unchanged,
    removed: plan.remove,
  };
}

/** Inserts a job unless its name is taken (undefined then). */
export function addJob(conn: Connection, spec: JobSpec, source: string, now: number): JobRow | undefined {
  if (conn.jobs.get(spec.name)) return undefined;
  rememberNext(conn, conn.jobs.insert(spec, source, now), now);
  return conn.jobs.get(spec.name);
}

/** Whether it changed; undefined if there is no such job. */
export function setPaused(conn: Connection, name: string, paused: boolean, now: number): boolean | undefined {
  if (!conn.jobs.get(name)) return undefined;
  return conn.jobs.setPaused(name, paused, now);
}

/**
 * Remembers a created or changed job's next firing, so `tock list` need not compute its
 * schedule (which, in a named zone, loads ICU's time-zone data).
 */
function rememberNext(conn: Connection, job: JobRow, now: number): void {
  const after = Math.max(now, job.cursorAt);
  const next = nextFirings(job, compileJob(job), after, 1)[0];
  conn.jobs.rememberNext(job.name, job.version, after, next?.scheduledAt ?? null);
}
