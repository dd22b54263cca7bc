// The machine the figures came from, for RESULTS.md: CPUs, memory, kernel, Node, SQLite,
// the commit measured, and the load average (other work on the machine skews timings).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import Database from 'better-sqlite3';
import { ROOT } from './tock.js';

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
  node: string;
  sqlite: string;
  commit: string;
  tmpdir: string;
}

export function machine(): Machine {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGb: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    sqlite,
    commit: gitCommit(),
    tmpdir: os.tmpdir(),
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}
