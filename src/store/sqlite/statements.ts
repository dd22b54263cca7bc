// Prepared statements are compiled once per connection, on first use, so a CLI command
// pays only for the statements it runs.

import type Database from 'better-sqlite3';
import type { DB } from './db.js';

export class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: DB) {}

  get(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}
