// What every command shares: opening the store named by --db/TOCK_DB, printing JSON or
// tables, colour only on a TTY and never with NO_COLOR or --no-color, and time formatting.

import { color, setColor } from './color.js';
import fs from 'node:fs';
import { luxon } from '../schedule/luxon.js';
import { zoneAbbreviation } from '../schedule/zone.js';
import type { Backend } from '../store/backend.js';
import { openBackend } from '../store/open.js';
import type { GlobalOptions } from './program.js';
import { usageError } from '../errors.js';
import { quote } from '../escape.js';

/** Opens the store named by --db/TOCK_DB, runs fn, and always closes it. */
export async function withBackend<T>(global: GlobalOptions, fn: (backend: Backend) => T | Promise<T>): Promise<T> {
  const backend = await openBackend(global.db);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

export async function useColor(global: GlobalOptions): Promise<boolean> {
  const wanted = global.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
  await setColor(wanted);
  return wanted;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** For people: `Mon 2026-11-23 02:30:00 UTC` in the machine's zone, like systemctl list-timers. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (machineIsUtc()) return utcWhen(ms);
  const dt = luxon().DateTime.fromMillis(ms);
  return `${dt.toFormat('ccc yyyy-LL-dd HH:mm:ss')} ${zoneAbbreviation(dt)}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');

/** `when` on a UTC machine, without luxon or Intl (loading them is most of a `tock list`). */
export function utcWhen(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  return `${WEEKDAYS[d.getUTCDay()]} ${date} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
}

const UTC_NAMES = /^:?(Etc\/)?(UTC|UCT|Universal|Zulu)$/;
let utc: boolean | undefined;

/**
 * Whether the machine's zone is UTC, as the C library decides it: TZ if set (empty means
 * UTC), else /etc/localtime, UTC when that is missing. Servers mostly run in UTC.
 */
export function machineIsUtc(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env === process.env && utc !== undefined) return utc;
  let answer: boolean;
  const tz = env.TZ;
  if (tz !== undefined) {
    answer = tz === '' || UTC_NAMES.test(tz);
  } else {
    try {
      answer = UTC_NAMES.test(fs.readlinkSync('/etc/localtime').replace(/^.*zoneinfo\//, ''));
    } catch (err) {
      answer = (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
  if (env === process.env) utc = answer;
  return answer;
}

/** `4min 3s left`-style spans: `3h 12min`, `45s`, `2d 4h`. */
export function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}min ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}min`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function durationText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return span(ms);
}

/** A whole number from a flag, or a usage error naming the flag and the range. */
export function intFlag(value: unknown, flag: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw usageError(`${flag} ${quote(String(value))}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

export function stateColor(state: string | null | undefined): string {
  const s = state ?? '-';
  switch (s) {
    case 'succeeded':
      return color.green(s);
    case 'failed':
    case 'abandoned':
      return color.red(s);
    case 'running':
    case 'pending':
      return color.cyan(s);
    case 'skipped':
    case 'missed':
      return color.yellow(s);
    default:
      return s;
  }
}
