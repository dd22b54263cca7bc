// The backends the conformance suite runs against, named in TOCK_TEST_BACKENDS
// (comma-separated, default `sqlite`), each with what the suite needs that the Backend
// interface does not offer: a fresh store, a way to hold its write lock, to make it look
// written by a newer tock, and to let an occurrence's lease lapse. For SQLite these open the
// file with better-sqlite3 directly (a test may look at the file).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openBackend } from '../../src/store/open.js';
import type { Backend } from '../../src/store/backend.js';
import { storeChecksum } from './store-env.js';

export interface Harness {
  name: string;
  /** A fresh, empty store of its own. */
  fresh(): Promise<Store>;
}

export interface Store {
  location: string;
  /** A handle on the store, as a command or a daemon opens it. */
  open(opts?: { busyTimeoutMs?: number }): Promise<Backend>;
  /** Makes the store look written by a newer tock (schema `version`). */
  setSchemaVersion(version: number): Promise<void>;
  /** The store's content, to prove an operation left it untouched. */
  fingerprint(): Promise<string>;
  /** Holds the store's write lock from outside until the returned function is called. */
  holdWriteLock(): Promise<() => Promise<void>>;
  /** Moves an occurrence's lease expiry, as if its runner stopped renewing it. */
  setLeaseExpiry(id: number, at: number): Promise<void>;
  cleanup(): Promise<void>;
}

function sqliteStore(): Store {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tock-conformance-'));
  const file = path.join(dir, 'tock.db');
  const raw = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(file, { fileMustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    location: file,
    open: (o = {}) => openBackend(file, { TOCK_BUSY_TIMEOUT_MS: String(o.busyTimeoutMs ?? 5_000) }),
    setSchemaVersion: async (version) => {
      raw((db) => db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)").run(version));
    },
    fingerprint: async () => storeChecksum(file),
    holdWriteLock: async () => {
      const db = new Database(file, { fileMustExist: true });
      db.exec('BEGIN IMMEDIATE');
      return async () => {
        db.exec('ROLLBACK');
        db.close();
      };
    },
    setLeaseExpiry: async (id, at) => {
      raw((db) => db.prepare('UPDATE occurrences SET lease_expires_at = ? WHERE id = ?').run(at, id));
    },
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

const HARNESSES: Record<string, Harness> = {
  sqlite: {
    name: 'sqlite',
    fresh: async () => sqliteStore(),
  },
};

/** The harnesses named in TOCK_TEST_BACKENDS; an unknown name fails loudly rather than testing nothing. */
export function testBackends(env: NodeJS.ProcessEnv = process.env): Harness[] {
  const names = (env.TOCK_TEST_BACKENDS || 'sqlite').split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((name) => {
    const h = HARNESSES[name];
    if (!h) throw new Error(`TOCK_TEST_BACKENDS: no test harness for backend ${JSON.stringify(name)} (known: ${Object.keys(HARNESSES).join(', ')})`);
    return h;
  });
}
