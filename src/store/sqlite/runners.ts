// All SQL about runners: the daemons (and `tock run` processes) that hold leases, with
// their heartbeats, so `status` can show who is alive and a lease's owner can be judged.

import type { Statements } from './statements.js';

export interface RunnerRow {
  id: string;
  kind: 'daemon' | 'cli';
  host: string;
  pid: number;
  version: string;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
  detail: string | null;
  /** Which process it is, beyond host and pid (see daemon/identity.ts); NULL where unknown. */
  boot_id: string | null;
  pid_ns: string | null;
  start_ticks: number | null;
}

export class RunnersSql {
  constructor(private readonly s: Statements) {}

  register(r: Omit<RunnerRow, 'stopped_at' | 'heartbeat_at'>): void {
    this.s
      .get(
        `INSERT INTO runners (id, kind, host, pid, version, started_at, heartbeat_at, detail, boot_id, pid_ns, start_ticks)
         VALUES (@id, @kind, @host, @pid, @version, @started_at, @started_at, @detail, @boot_id, @pid_ns, @start_ticks)`,
      )
      .run(r);
  }

  heartbeat(id: string, now: number): void {
    this.s.get('UPDATE runners SET heartbeat_at = ? WHERE id = ?').run(now, id);
  }

  stop(id: string, now: number): void {
    this.s.get('UPDATE runners SET stopped_at = ?, heartbeat_at = ? WHERE id = ?').run(now, now, id);
  }

  byId(id: string): RunnerRow | undefined {
    return this.s.get('SELECT * FROM runners WHERE id = ?').get(id) as RunnerRow | undefined;
  }

  /** Runners that have not said they stopped, newest first; liveness is judged by the caller. */
  unstopped(): RunnerRow[] {
    return this.s.get('SELECT * FROM runners WHERE stopped_at IS NULL ORDER BY started_at DESC').all() as RunnerRow[];
  }

  /** Forgets runners that stopped or went silent long ago. */
  forget(before: number): number {
    return this.s
      .get('DELETE FROM runners WHERE heartbeat_at < ? AND id NOT IN (SELECT lease_owner FROM occurrences WHERE lease_owner IS NOT NULL)')
      .run(before).changes;
  }
}
