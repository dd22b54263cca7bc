// Test helpers: a fresh temp directory and store per test, and the real CLI run as a child
// process.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, isolatedEnv } from './store-env.js';

export { BIN, ROOT, storeChecksum } from './store-env.js';

export interface Sandbox {
  dir: string;
  db: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A temp dir with its own store path; HOME and XDG_STATE_HOME point inside it too. */
export function sandbox(): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tock-test-'));
  const db = path.join(dir, 'tock.db');
  return { dir, db, env: isolatedEnv(dir, db), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Wraps a test body with a fresh sandbox that is always removed afterwards. */
export function withSandbox(fn: (sb: Sandbox) => void | Promise<void>) {
  return async () => {
    const sb = sandbox();
    try {
      await fn(sb);
    } finally {
      sb.cleanup();
    }
  };
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

export function tock(sb: Sandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...sb.env, ...extraEnv },
    cwd: sb.dir,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout),
  };
}

/** Like tock(), without blocking this process: for tests whose own HTTP server must answer. */
export function tockAsync(sb: Sandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...sb.env, ...extraEnv }, cwd: sb.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}

/** Starts the CLI in the background (a daemon, a long `run`). */
export function tockSpawn(sb: Sandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...sb.env, ...extraEnv },
    cwd: sb.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}


/** Asserts the usual shape of a rejected input: one `tock:` line, no stack trace. */
export function isCleanError(r: Result): boolean {
  const lines = r.stderr.trimEnd().split('\n');
  return lines.length === 1 && lines[0].startsWith('tock: ') && !/\n\s+at /.test(r.stderr);
}

export function writeFile(sb: Sandbox, name: string, text: string): string {
  const p = path.join(sb.dir, name);
  fs.writeFileSync(p, text);
  return p;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
