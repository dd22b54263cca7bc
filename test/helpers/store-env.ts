// What every test, fault scenario and benchmark shares about a tock under test: where the
// program is, the environment that gives it a store of its own (never the user's), a
// checksum of that store, and the shape of `tock history --json` as SPEC §6 defines it.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (this file runs as dist/test/helpers/store-env.js). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'tock.js');

/**
 * The store's content, its WAL included (a commit may sit there until a checkpoint): equal
 * checksums before and after a command prove it left the store byte-for-byte unchanged.
 */
export function storeChecksum(db: string): string {
  const h = createHash('sha256');
  for (const f of [db, `${db}-wal`]) h.update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
  return h.digest('hex');
}

/** The environment of a tock whose store is `db` and whose home is `dir`; UTC, no colour. */
export function isolatedEnv(dir: string, db: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_STATE_HOME: path.join(dir, 'state'),
    TOCK_DB: db,
    TZ: 'UTC',
    NO_COLOR: '1',
    ...extra,
  };
}

export interface HistoryAttempt {
  n: number;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  outcome: string;
  exit_code: number | null;
  http_status: number | null;
  error: string | null;
  output_bytes: number;
  output_truncated: boolean;
  runner: string | null;
}

export interface HistoryOcc {
  id: number;
  job: string;
  scheduled_at: string;
  idempotency_key: string;
  trigger: string;
  origin: string;
  state: string;
  delivery: string;
  reason: string | null;
  lease_owner: string | null;
  attempts: HistoryAttempt[];
}
