// Starts and talks to bench/target-server.ts, the local no-op HTTP target.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arrival } from '../target-server.js';

export type { Arrival };

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'target-server.js');

export interface TargetServer {
  url: string;
  pid: number;
  /** Every request since the last dump, in arrival order. */
  dump(): Promise<Arrival[]>;
  stop(): Promise<void>;
}

export async function startTargetServer(): Promise<TargetServer> {
  const child = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await firstLine(child);
  const base = `http://127.0.0.1:${port}`;
  let seen = 0;
  return {
    url: `${base}/hook`,
    pid: child.pid!,
    dump: async () => {
      const fresh = await dumpFrom(base, seen);
      seen += fresh.length;
      return fresh;
    },
    stop: () => stopChild(child),
  };
}

/**
 * The server's records from the `from`-th on. A pooled keep-alive connection can be closed
 * under a request ("fetch failed", seen once in a full run); asking again loses nothing.
 */
async function dumpFrom(base: string, from: number): Promise<Arrival[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${base}/__dump?from=${from}`);
      return (await res.json()) as Arrival[];
    } catch (err) {
      if (attempt >= 3) throw new Error(`the target server's records could not be read: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`);
    }
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0].trim());
    });
    child.once('exit', (code) => reject(new Error(`the target server exited (${code}) before listening`)));
  });
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
