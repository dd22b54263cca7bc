// /metrics with prom-client (loaded only by a daemon with --listen). Two sources:
// - the store, read at scrape time with one aggregate (Backend.jobTotals): occurrences by
//   state, missed firings, last success and next fire per job, running occurrences. These
//   are true across daemons and restarts; retention pruning lowers them (read as a reset).
// - what this daemon observed since it started (the Observer): attempt durations, firing
//   lateness, claims lost to another daemon, store errors. Histograms carry no job label,
//   so memory stays the same with 100,000 jobs; per-job series are rebuilt on every scrape.

import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FINAL_STATES, StoreError, type JobTotals } from '../store/backend.js';
import type { Observer } from './observer.js';

/** The notification outbox as the store counts it: not yet delivered, and given up on. */
export type OutboxStats = () => Promise<{ depth: number; failures: number }>;

export interface Metrics {
  registry: Registry;
  observer: Pick<Observer, 'attempt' | 'claimLost'>;
  storeError(): void;
  /** The text of one scrape: the store's totals read, then every metric rendered. */
  scrape(totals: () => Promise<JobTotals[]>): Promise<string>;
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const LATENESS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

export async function createMetrics(outbox?: OutboxStats): Promise<Metrics> {
  const p = await import('prom-client');
  const registry = new p.Registry();
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) => new p.Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new p.Gauge({ name, help, labelNames, registers });

  const fromStore = {
    occurrences: counter('tock_occurrences_total', 'Occurrences ended in the store, by job and final state (all retained history).', ['job', 'state']),
    missed: counter('tock_missed_total', 'Firings recorded missed (no daemon ran at their time), by job.', ['job']),
    lastSuccess: gauge('tock_last_success_timestamp_seconds', 'When the latest successful occurrence of the job finished.', ['job']),
    nextFire: gauge('tock_next_fire_timestamp_seconds', 'When the job fires next, as last computed.', ['job']),
    running: gauge('tock_running', 'Occurrences running now, across every daemon on the store.'),
  };
  const duration: Histogram = new p.Histogram({ name: 'tock_attempt_duration_seconds', help: 'Duration of the attempts this daemon ran.', buckets: DURATION_BUCKETS, registers });
  const lateness: Histogram = new p.Histogram({
    name: 'tock_firing_lateness_seconds',
    help: 'Scheduled firings this daemon started: started minus scheduled instant (jitter included).',
    buckets: LATENESS_BUCKETS,
    registers,
  });
  const duplicates: Counter = counter('tock_duplicates_avoided_total', 'Firings this daemon did not run because another daemon had claimed them.');
  const storeErrors: Counter = counter('tock_store_errors_total', 'Store operations that failed in this daemon (a turn of the loop, a scrape, a health probe).');
  const outboxGauges = outbox ? outboxMetrics(gauge, counter) : undefined;

  const fill = (totals: JobTotals[]) => {
    Object.values(fromStore).forEach((m) => m.reset());
    let running = 0;
    for (const t of totals) {
      for (const state of FINAL_STATES) {
        const n = t.byState[state];
        if (n) fromStore.occurrences.inc({ job: t.job, state }, n);
      }
      if (t.byState.missed) fromStore.missed.inc({ job: t.job }, t.byState.missed);
      if (t.lastSuccessAt !== null) fromStore.lastSuccess.set({ job: t.job }, t.lastSuccessAt / 1000);
      if (t.nextFireAt !== null) fromStore.nextFire.set({ job: t.job }, t.nextFireAt / 1000);
      running += t.byState.running ?? 0;
    }
    fromStore.running.set(running);
  };

  const metrics: Metrics = {
    registry,
    observer: {
      attempt(a) {
        duration.observe(Math.max(0, a.finishedAt - a.startedAt) / 1000);
        if (a.n === 1 && a.origin === 'schedule') lateness.observe(Math.max(0, a.startedAt - a.scheduledAt) / 1000);
      },
      claimLost: () => duplicates.inc(),
    },
    storeError: () => storeErrors.inc(),
    // One scrape at a time: another's fill must not reset the series this one is rendering.
    scrape(totals) {
      const run = queue.then(() => once(totals));
      queue = run.catch(() => {});
      return run;
    },
  };
  let queue: Promise<unknown> = Promise.resolve();
  const once = async (totals: () => Promise<JobTotals[]>) => {
    try {
      fill(await totals());
      if (outbox && outboxGauges) outboxGauges.set(await outbox());
    } catch (err) {
      if (err instanceof StoreError) metrics.storeError();
      throw err;
    }
    return registry.metrics();
  };
  return metrics;
}

function outboxMetrics(gauge: (n: string, h: string) => Gauge, counter: (n: string, h: string) => Counter) {
  const depth = gauge('tock_notification_outbox_depth', 'Notifications written but not yet delivered.');
  const failures = counter('tock_notification_delivery_failures_total', 'Notification deliveries that failed.');
  return {
    set(s: { depth: number; failures: number }) {
      depth.set(s.depth);
      failures.reset();
      failures.inc(s.failures);
    },
  };
}
