// Helpers for the observability tests: a daemon started with --listen on a free port, HTTP
// calls to it, and a small parser of the Prometheus text format.

import type { ChildProcess } from 'node:child_process';
import { exited, tockSpawn, waitFor, type Sandbox } from './cli.js';

export interface Listening {
  child: ChildProcess & { output: () => string };
  base: string;
  stop(): Promise<void>;
}

/** `tock daemon --listen 127.0.0.1:0 ...`, once it has logged where it listens and started. */
export async function listeningDaemon(sb: Sandbox, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Listening> {
  const child = tockSpawn(sb, ['daemon', '--listen', '127.0.0.1:0', ...args], env);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };
  try {
    const port = await waitFor('the daemon to listen', () => /listening +http:\/\/127\.0\.0\.1:(\d+)\//.exec(child.output())?.[1], 20_000, 50);
    await waitFor('the daemon to start', () => / started +daemon /.test(child.output()), 20_000, 50);
    return { child, base: `http://127.0.0.1:${port}`, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; output: ${child.output()}`);
  }
}

export async function get(base: string, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Headers; json<T = any>(): T }> {
  const res = await fetch(base + path, { method, signal: AbortSignal.timeout(15_000) });
  const body = await res.text();
  return { status: res.status, body, headers: res.headers, json: () => JSON.parse(body) };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format: `# TYPE name kind` lines into `types`, `name{l="v",...} value` lines into samples. */
export function parseProm(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { types, samples };
}

/** The value of the one sample with this name and these labels (exactly), or undefined. */
export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}
