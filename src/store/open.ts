// The one place that decides which backend a command opens: `--db`, else TOCK_DB, else the
// default SQLite file under $XDG_STATE_HOME. A path is a SQLite store; a postgres:// URL will
// be a PostgreSQL one. The backend's module is loaded only here, when a store is opened.

import os from 'node:os';
import path from 'node:path';
import { StoreError, type Backend } from './backend.js';

const POSTGRES = /^postgres(ql)?:\/\//i;

/** Where the store is: `--db`, else TOCK_DB, else $XDG_STATE_HOME/tock/tock.db, else ~/.local/state/tock/tock.db. */
export function storeLocation(location?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = location || env.TOCK_DB;
  if (given) return POSTGRES.test(given) ? given : path.resolve(given);
  const state = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'tock', 'tock.db');
}

/** Opens the store (creating and migrating it on first use); a store that cannot be used is a StoreError. */
export async function openBackend(location?: string, env: NodeJS.ProcessEnv = process.env): Promise<Backend> {
  const where = storeLocation(location, env);
  if (POSTGRES.test(where)) {
    throw new StoreError(`PostgreSQL stores are not supported yet (${withoutPassword(where)}: point --db or TOCK_DB at a SQLite file)`, false, 'unsupported');
  }
  const [{ SqliteBackend }, { busyTimeoutMs }] = await Promise.all([import('./sqlite/backend.js'), import('./sqlite/failure.js')]);
  return SqliteBackend.open(where, busyTimeoutMs(env));
}

/** A URL as it may be shown: its password replaced. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
