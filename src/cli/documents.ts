// The JSON documents of the read commands, made in one place for the CLI's --json and the
// daemon's /api/v1/ (src/observe/api.ts): the same store, the same shapes.

import type { Backend, Job } from '../store/backend.js';
import { upcoming } from '../catalogue/next.js';
import type { Firing } from '../schedule/for-job.js';
import { parseDuration, parseInstant } from '../schedule/index.js';
import { usageError } from '../errors.js';
import { quote } from '../escape.js';
import { iso } from './io.js';
import { jobJson, results, type LastResult } from './jobs-view.js';
import { attemptJson, occurrenceJson } from './occurrence-view.js';

export interface ListedJob {
  job: Job;
  next: Firing | undefined;
  last: LastResult | null;
  recent: string[];
}

/** Every job with its next firing and recent results, soonest first (`tock list`). */
export async function listedJobs(backend: Backend, now: number, recentN: number): Promise<ListedJob[]> {
  const all = await backend.listJobs();
  const jobs = await Promise.all(all.map(async (job) => ({ job, next: upcoming(job, now, 1)[0], ...(await results(backend, job.name, recentN)) })));
  jobs.sort((a, b) => (a.next?.fireAt ?? Infinity) - (b.next?.fireAt ?? Infinity) || a.job.name.localeCompare(b.job.name));
  return jobs;
}

/** `tock list --json`, `/api/v1/jobs`. */
export function listDocument(jobs: ListedJob[]): Record<string, unknown>[] {
  return jobs.map((j) => jobJson(j.job, j.next ? [j.next] : [], j.last, j.recent));
}

/** `tock show NAME --json`, `/api/v1/jobs/NAME`; undefined if there is no such job. */
export async function jobDocument(backend: Backend, name: string, now: number): Promise<Record<string, unknown> | undefined> {
  const job = await backend.getJob(name);
  if (!job) return undefined;
  const next = upcoming(job, now, 5);
  const { last, recent } = await results(backend, name, 10);
  return { ...jobJson(job, next, last, recent), next_runs: next.map((f) => iso(f.fireAt)) };
}

/** `tock history --json`, `/api/v1/occurrences`. */
export function historyDocument(rows: Awaited<ReturnType<Backend['history']>>): Record<string, unknown>[] {
  return rows.map((r) => occurrenceJson(r.occurrence, r.attempts));
}

/** `tock logs ID --json`, `/api/v1/occurrences/ID`: the occurrence with every attempt's output. */
export async function occurrenceDocument(backend: Backend, id: number): Promise<Record<string, unknown> | undefined> {
  const occ = await backend.occurrence(id);
  if (!occ) return undefined;
  const attempts = await backend.attempts(id, true);
  return { ...occurrenceJson(occ, []), attempts: attempts.map((a) => ({ ...attemptJson(a), output: a.output ?? '' })) };
}

/** `/api/v1/keys/KEY`: whether the idempotency key was used, and by which occurrence (its outcome). */
export async function keyDocument(backend: Backend, key: string): Promise<Record<string, unknown>> {
  const occ = await backend.occurrenceByKey(key);
  if (!occ) return { idempotency_key: key, used: false, occurrence: null };
  return { idempotency_key: key, used: true, occurrence: occurrenceJson(occ, await backend.attempts(occ.id, false)) };
}

/** `--since`: an instant (`2026-11-23T02:00Z`) or a span back from now (`2h`, `P1D`). */
export function parseSince(text: string, now: number, flag = '--since'): number {
  try {
    return parseInstant(text, 'UTC');
  } catch {
    try {
      return now - parseDuration(text);
    } catch {
      throw usageError(`${flag} ${quote(text)}: give an ISO-8601 instant (2026-11-23T02:00Z) or a duration back from now (2h, P1D)`);
    }
  }
}
