// Numbered, append-only schema migrations, each applied in its own transaction and
// recorded in the file. A store written by a newer tock is refused, never guessed at.

import type { DB } from './db.js';
import { refused } from './failure.js';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Instants are INTEGER milliseconds since the epoch (UTC).
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
      INSERT INTO meta (key, value) VALUES ('jobs_generation', 0);

      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        spec TEXT NOT NULL,                 -- validated JobSpec as JSON; never holds expanded secrets
        paused INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1, -- bumped on every change
        source TEXT NOT NULL,               -- 'cli' or the absolute path of the jobs file
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        cursor_at INTEGER NOT NULL,         -- every scheduled instant up to here is handled (claimed,
                                            -- recorded, or skipped by creation, resume or an edit)
        done_at INTEGER                     -- a one-shot job that has fired
      );
      CREATE TRIGGER jobs_generation_insert AFTER INSERT ON jobs
        BEGIN UPDATE meta SET value = value + 1 WHERE key = 'jobs_generation'; END;
      -- Moving the cursor is not a change of definition: daemons need not reload for it.
      CREATE TRIGGER jobs_generation_update AFTER UPDATE OF name, spec, paused, version, source, done_at ON jobs
        BEGIN UPDATE meta SET value = value + 1 WHERE key = 'jobs_generation'; END;
      CREATE TRIGGER jobs_generation_delete AFTER DELETE ON jobs
        BEGIN UPDATE meta SET value = value + 1 WHERE key = 'jobs_generation'; END;

      CREATE TABLE occurrences (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        scheduled_at INTEGER NOT NULL,
        fire_at INTEGER NOT NULL,           -- scheduled_at plus the deterministic jitter
        origin TEXT NOT NULL CHECK (origin IN ('schedule','catchup','manual')),
        trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catchup','manual','retry')),  -- 'retry' after tock retry
        state TEXT NOT NULL CHECK (state IN
          ('pending','running','succeeded','failed','abandoned','skipped','missed')),
        delivery TEXT NOT NULL,
        job_version INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,            -- a pending occurrence waits for this instant
        lease_owner TEXT,
        lease_expires_at INTEGER,
        cancel_reason TEXT,                 -- set by another process to stop a running target
        reason TEXT,                        -- why it ended as it did (skipped, missed, abandoned...)
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX occurrences_job ON occurrences (job, scheduled_at);
      CREATE INDEX occurrences_active ON occurrences (state, lease_expires_at)
        WHERE state IN ('pending', 'running');
      CREATE INDEX occurrences_created ON occurrences (created_at);

      CREATE TABLE attempts (
        occurrence_id INTEGER NOT NULL REFERENCES occurrences (id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        trigger TEXT NOT NULL,              -- schedule, catchup, manual, retry, backoff or recovery
        runner TEXT,                        -- id of the daemon or CLI process that ran it
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN
          ('running','succeeded','failed','timeout','cancelled','abandoned')),
        exit_code INTEGER,
        signal TEXT,
        http_status INTEGER,
        error TEXT,
        output TEXT,
        output_truncated INTEGER NOT NULL DEFAULT 0,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (occurrence_id, n)
      ) WITHOUT ROWID;

      CREATE TABLE runners (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('daemon', 'cli')),
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        version TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        stopped_at INTEGER,
        detail TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'indexes for history and for the active occurrences of a job',
    // `tock history` without a job name lists the newest occurrences first: without the
    // first index SQLite sorts the whole table (1.2 s with 1,000,000 rows) to show 20.
    // The second serves the claim's overlap check: occurrences_job would walk the job's
    // whole history (0.5 ms per claim at 1,000 rows per job) to find the few active ones.
    sql: `
      CREATE INDEX occurrences_scheduled ON occurrences (scheduled_at);
      CREATE INDEX occurrences_job_active ON occurrences (job, scheduled_at)
        WHERE state IN ('pending', 'running');
    `,
  },
  {
    version: 3,
    name: 'each job remembers its next firing',
    // `tock list` would otherwise compute every job's schedule, and a job in a named zone
    // makes the process load ICU's time-zone data (~15 ms) just to print one line. The
    // value holds for the job's version: the first instant after next_after is next_at
    // (NULL: none), so it answers any "after" from next_after up to next_at.
    sql: `
      ALTER TABLE jobs ADD COLUMN next_after INTEGER;
      ALTER TABLE jobs ADD COLUMN next_at INTEGER;
      ALTER TABLE jobs ADD COLUMN next_version INTEGER;
    `,
  },
  {
    version: 4,
    name: 'a store id, and runners identified by boot, PID namespace and start time',
    // The store id and the runner id mark the processes of an attempt (TOCK_STORE,
    // TOCK_RUNNER): cleanup kills only what this store's runner started, never the same
    // job's occurrence of another store. Host and pid alone collide across containers and
    // PID namespaces sharing a host name; rows of older runners keep NULLs (judged by lease).
    sql: `
      CREATE TABLE store_identity (
        id TEXT NOT NULL                    -- random, created once; one row
      );
      INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(16))));
      ALTER TABLE runners ADD COLUMN boot_id TEXT;
      ALTER TABLE runners ADD COLUMN pid_ns TEXT;
      ALTER TABLE runners ADD COLUMN start_ticks INTEGER;
    `,
  },
  {
    version: 5,
    name: 'the notification outbox',
    // One row per notification, written in the transaction that records its occurrence's
    // result and keyed by its notification key (written twice, kept once); delivered by a
    // daemon that holds it under a lease, as occurrences are held. No foreign key: what was
    // sent outlives the occurrence's pruning, and delivery never reads the occurrence.
    // IF NOT EXISTS: a store rolled back to an older schema by hand keeps this table.
    sql: `
      CREATE TABLE IF NOT EXISTS notifications (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,           -- occurrence key #notify:event:channel
        job TEXT NOT NULL,
        occurrence_id INTEGER NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('failed','abandoned','missed','recovered','late','long')),
        channel INTEGER NOT NULL,           -- index in the job's notify: list
        target TEXT NOT NULL,               -- the channel as JSON, as it was when written
        payload TEXT NOT NULL,              -- the NotificationEvent as JSON
        state TEXT NOT NULL CHECK (state IN ('pending','sent','failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX IF NOT EXISTS notifications_job ON notifications (job, id);
      CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at);
    `,
  },
];

export const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Applies what is missing; refuses a store from a newer tock or a file that is not tock's. */
export function migrate(db: DB, file: string): void {
  const current = currentVersion(db, file);
  if (current > LATEST_SCHEMA) throw newerSchema(file, current);
  if (current === LATEST_SCHEMA) return;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (currentVersion(db, file) >= m.version) return;
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    }).immediate();
  }
}

function currentVersion(db: DB, file: string): number {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  if (!tables.includes('schema_migrations')) {
    if (tables.length > 0) {
      throw refused(`${file} is an SQLite file but not a tock store; point --db at another file`, 'foreign');
    }
    return 0;
  }
  return (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get() as number) ?? 0;
}

function newerSchema(file: string, version: number) {
  return refused(
    `${file} was written by a newer tock (schema ${version}; this tock knows up to ${LATEST_SCHEMA}); upgrade tock to use it`,
    'newer-schema',
  );
}
