// All SQL about job definitions: the jobs table and the generation counter daemons
// watch to notice a change made from another shell.

import type { JobSpec } from '../../types.js';
import type { Job } from '../domain.js';
import { storedSpec } from '../../config/canonical.js';
import type { Statements } from './statements.js';

/** A job as this backend reads it: the domain Job, with its row id. */
export type JobRow = Job & { id: number };

interface RawJob {
  id: number;
  name: string;
  spec: string;
  paused: number;
  version: number;
  source: string;
  created_at: number;
  updated_at: number;
  cursor_at: number;
  done_at: number | null;
  next_after: number | null;
  next_at: number | null;
  next_version: number | null;
}

const COLUMNS = 'id, name, spec, paused, version, source, created_at, updated_at, cursor_at, done_at, next_after, next_at, next_version';

// Most jobs share a handful of sources (`cli`, a jobs file's path): one string each, not one per row.
const sources = new Map<string, string>();

function sameSource(source: string): string {
  const known = sources.get(source);
  if (known !== undefined) return known;
  if (sources.size < 1_000) sources.set(source, source);
  return source;
}

function toRow(r: RawJob): JobRow {
  return {
    id: r.id,
    name: r.name,
    spec: JSON.parse(r.spec) as JobSpec,
    paused: r.paused === 1,
    version: r.version,
    source: sameSource(r.source),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    cursorAt: r.cursor_at,
    doneAt: r.done_at,
    next: r.next_after === null || r.next_version === null ? null : { after: r.next_after, at: r.next_at, version: r.next_version },
  };
}

export class JobsSql {
  constructor(private readonly s: Statements) {}

  get(name: string): JobRow | undefined {
    const r = this.s.get(`SELECT ${COLUMNS} FROM jobs WHERE name = ?`).get(name) as RawJob | undefined;
    return r && toRow(r);
  }

  list(): JobRow[] {
    // iterate(), not all(): each raw row (its spec as text) is garbage once parsed, so 100,000
    // jobs never hold every raw row and every parsed row at once (70 MB less at the peak).
    const rows: JobRow[] = [];
    for (const r of this.s.get(`SELECT ${COLUMNS} FROM jobs ORDER BY name`).iterate() as IterableIterator<RawJob>) rows.push(toRow(r));
    return rows;
  }

  /** Names, versions and done marks only: cheap enough to poll with 100,000 jobs. */
  versions(): { name: string; version: number; doneAt: number | null }[] {
    return this.s.get('SELECT name, version, done_at AS doneAt FROM jobs').all() as {
      name: string;
      version: number;
      doneAt: number | null;
    }[];
  }

  insert(spec: JobSpec, source: string, now: number): JobRow {
    this.s
      .get(
        `INSERT INTO jobs (name, spec, paused, version, source, created_at, updated_at, cursor_at)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?)`,
      )
      .run(spec.name, storedSpec(spec), spec.paused ? 1 : 0, source, now, now, now);
    return this.get(spec.name)!;
  }

  /** Replaces the definition; `cursorAt` moves when the schedule changed, so no old instant replays. */
  update(name: string, spec: JobSpec, source: string, cursorAt: number, now: number): void {
    this.s
      .get(
        `UPDATE jobs SET spec = ?, source = ?, paused = COALESCE(?, paused), version = version + 1,
           updated_at = ?, cursor_at = MAX(cursor_at, ?), done_at = NULL
         WHERE name = ?`,
      )
      .run(storedSpec(spec), source, spec.paused === undefined ? null : spec.paused ? 1 : 0, now, cursorAt, name);
  }

  /** Pausing and resuming bump the version; resuming moves the cursor so the pause is not replayed. */
  setPaused(name: string, paused: boolean, now: number): boolean {
    const info = this.s
      .get(
        `UPDATE jobs SET paused = ?, version = version + 1, updated_at = ?,
           cursor_at = CASE WHEN ? = 0 THEN MAX(cursor_at, ?) ELSE cursor_at END
         WHERE name = ? AND paused <> ?`,
      )
      .run(paused ? 1 : 0, now, paused ? 1 : 0, now, name, paused ? 1 : 0);
    return info.changes === 1;
  }

  /**
   * Records that every scheduled instant up to `at` is handled and, if the job is still at
   * `version`, that its next firing after `at` is `next` (null: none). One statement: it
   * runs for every claimed firing, with the write lock held. Does not wake other daemons.
   */
  advance(name: string, version: number, at: number, next: number | null): void {
    this.s
      .get(
        `UPDATE jobs SET cursor_at = MAX(cursor_at, @at),
           next_after = CASE WHEN version = @version THEN @at ELSE next_after END,
           next_at = CASE WHEN version = @version THEN @next ELSE next_at END,
           next_version = CASE WHEN version = @version THEN @version ELSE next_version END
         WHERE name = @name`,
      )
      .run({ name, version, at, next });
  }

  /** Remembers that, for this version of the job, the first firing after `after` is `at` (null: none). */
  rememberNext(name: string, version: number, after: number, at: number | null): void {
    this.s
      .get('UPDATE jobs SET next_after = ?, next_at = ?, next_version = ? WHERE name = ? AND version = ?')
      .run(after, at, version, name, version);
  }

  markDone(name: string, now: number): void {
    this.s.get('UPDATE jobs SET done_at = ?, updated_at = ? WHERE name = ? AND done_at IS NULL').run(now, now, name);
  }

  remove(name: string): boolean {
    return this.s.get('DELETE FROM jobs WHERE name = ?').run(name).changes === 1;
  }

  /** Changes with every insert, update and delete of a job (triggers in migration 1). */
  generation(): number {
    return this.s.get("SELECT value FROM meta WHERE key = 'jobs_generation'").pluck().get() as number;
  }
}
