// In-process daemons on a real store in a temp dir, driven by a fake clock: a test moves
// the clock, wakes the daemons and awaits their turns (as graphile-worker's cron timing
// tests do), then asserts on the store, read through the Backend. Targets are fakes that succeed at once or run
// until they are stopped.

import { Daemon } from '../../src/daemon/daemon.js';
import type { Clock } from '../../src/daemon/clock.js';
import type { LogEvent } from '../../src/daemon/log.js';
import type { Execute } from '../../src/daemon/target.js';
import { parseJobsFile } from '../../src/config/file.js';
import type { Backend, Occurrence } from '../../src/store/backend.js';
import { openBackend } from '../../src/store/open.js';
import type { AttemptResult } from '../../src/types.js';
import { waitFor, type Sandbox } from './cli.js';

/** A fixed reference instant: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1);
export const MINUTE = 60_000;

/** Wall and monotonic time that move only when told; `jump` moves the wall clock alone. */
export class FakeClock implements Clock {
  constructor(
    private wall: number,
    private mono = 1_000_000,
  ) {}
  now = () => this.wall;
  monotonic = () => this.mono;
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
  jump(ms: number): void {
    this.wall += ms;
  }
  set(at: number): void {
    this.advance(at - this.wall);
  }
}

function result(clock: Clock, outcome: AttemptResult['outcome']): AttemptResult {
  const at = clock.now();
  return { outcome, retryable: true, output: '', outputTruncated: false, outputBytes: 0, startedAt: at, finishedAt: at };
}

/** Succeeds at once. */
export const instant = (clock: Clock): Execute => async () => result(clock, 'succeeded');

/** Runs until stopped (a replacement, or shutdown). */
export const endless = (clock: Clock): Execute => (_t, _ctx, signal) =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(result(clock, 'cancelled')), { once: true }));

/** Adds the jobs of a YAML jobs file to the store, created at `createdAt`. */
export async function addJobs(store: Backend, yaml: string, createdAt: number): Promise<void> {
  await store.applyJobs(parseJobsFile(yaml, 'test.yaml'), { source: 'test', prune: false, now: createdAt });
}

export class TestDaemon {
  readonly logs: [LogEvent, string][] = [];
  readonly daemon: Daemon;
  private turned: ((now: number) => void)[] = [];

  constructor(
    readonly store: Backend,
    readonly clock: FakeClock,
    execute: Execute,
    concurrency = 4,
  ) {
    this.daemon = new Daemon({
      backend: store,
      log: (event, text) => this.logs.push([event, text]),
      clock,
      concurrency,
      graceMs: 100,
      leaseMs: 3_600_000, // the fake clock moves by minutes: no lease lapses unless a test wants it
      keepDays: 30,
      keepRuns: 1_000,
      pollMs: 3_600_000, // job changes are not what these tests are about: no background reloads
      firstPruneMs: 86_400_000,
      execute,
      onTurn: (now) => {
        const waiting = this.turned;
        this.turned = [];
        for (const w of waiting) w(now);
      },
    });
  }

  lines(event: LogEvent): string[] {
    return this.logs.filter(([e]) => e === event).map(([, t]) => t);
  }

  /** Resolves after a turn that began at the clock's present instant or later. */
  async turn(): Promise<void> {
    const at = this.clock.now();
    for (;;) {
      const began = await new Promise<number>((resolve) => {
        this.turned.push(resolve);
        this.daemon.wake();
      });
      if (began >= at) return;
    }
  }
}

/** Every daemon takes a turn at the clock's present instant. */
export async function turnAll(daemons: TestDaemon[]): Promise<void> {
  await Promise.all(daemons.map((d) => d.turn()));
}

export async function occurrences(store: Backend): Promise<Occurrence[]> {
  return (await store.history({ limit: 10_000 })).map((h) => h.occurrence).reverse();
}

/** Waits until no occurrence is running or pending (fake targets end within milliseconds). */
export async function settled(store: Backend, what = 'every occurrence final'): Promise<Occurrence[]> {
  await waitFor(what, async () => (await occurrences(store)).every((o) => o.state !== 'running' && o.state !== 'pending') || undefined, 10_000, 10);
  return occurrences(store);
}

/** Waits until the daemons hold nothing: no target running, no firing left unclaimed. */
export async function idle(daemons: TestDaemon[]): Promise<void> {
  const empty = () => daemons.every((d) => {
    const s = d.daemon.snapshot();
    return s.running === 0 && s.backlog === 0;
  });
  await waitFor('the daemons to be idle', () => empty() || undefined, 10_000, 10);
}

/** The sandbox's store, opened as every command opens it. */
export function openStore(sb: Sandbox): Promise<Backend> {
  return openBackend(sb.db);
}
