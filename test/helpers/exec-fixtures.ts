// Fixtures for the executor tests: an attempt context, temp dirs, a liveness check that
// treats zombies as dead, a local HTTP server, and an RSS sampler for the memory checks.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AttemptContext } from '../../src/types.js';

export function context(overrides: Partial<AttemptContext> = {}): AttemptContext {
  return {
    job: 'nightly-report',
    occurrenceId: 42,
    storeId: '0123456789abcdef0123456789abcdef',
    runnerId: 'test-host:1:0123456789abcdef',
    idempotencyKey: 'nightly-report@2025-03-01T02:30:00.000Z',
    scheduledAt: Date.UTC(2025, 2, 1, 2, 30),
    attempt: 2,
    timeoutMs: 20_000,
    outputLimit: 64 * 1024,
    env: { PATH: process.env.PATH },
    killGraceMs: 300,
    maxRetryAfterMs: 60_000,
    ...overrides,
  };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tock-exec-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Alive and not a zombie (orphans may never be reaped when PID 1 is not an init). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    if (process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readPids(file: string): number[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
}

export async function waitFor(check: () => boolean, withinMs = 5_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound once, then released. */
export async function deadPort(): Promise<number> {
  const server = await startServer(() => {});
  await server.close();
  return server.port;
}

/** Samples RSS while `run` works; returns its result and the peak growth over the starting RSS. */
export async function measureRss<T>(run: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - base };
  } finally {
    clearInterval(sampler);
  }
}

export const MB = 1024 * 1024;
