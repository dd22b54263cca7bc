// Several daemons on one store: the same burst of no-op HTTP occurrences with 1, 2 and 4
// daemons; throughput, and duplicates as the target saw them (two requests with one
// Idempotency-Key) and as the store saw them (more than one attempt on an occurrence).
// Beside them, the machine's own limit for that many processes: the same burst split over
// as many daemons each on a store of its own, so nothing is shared but the machine.

import { applyBurst, duplicates, runBurst, type BurstResult } from './lib/burst.js';
import type { Figure, SectionResult } from './lib/figures.js';
import { startTargetServer, type TargetServer } from './lib/server.js';
import { count, perSecond, ratio } from './lib/stats.js';
import { sandbox, type Sandbox } from './lib/tock.js';

export interface DaemonsOptions {
  jobs: number;
  concurrency: number;
  counts: number[];
}

export async function daemons(o: DaemonsOptions): Promise<SectionResult> {
  const server = await startTargetServer();
  const results = new Map<number, BurstResult>();
  const notes: string[] = [];
  const max = Math.max(...o.counts);
  let separate: BurstResult;
  try {
    for (const d of o.counts) {
      const result = await burst(o, d, [sandbox(`daemons-${d}`)], server);
      results.set(d, result);
      notes.push(
        `${d} daemon(s), concurrency ${o.concurrency} each: ${count(o.jobs)} due at once; sustained ${perSecond(result.sustained)}, ` +
          `all in ${result.seconds.toFixed(1)} s; ${count(result.succeeded)} succeeded; ${result.duplicates} duplicate request(s).${late(result)}`,
      );
    }
    const stores = Array.from({ length: max }, (_, k) => sandbox(`daemons-${max}-separate-${k + 1}`));
    separate = await burst(o, max, stores, server);
    notes.push(
      `${max} daemons, each on its own store with ${count(o.jobs / max)} of the jobs, concurrency ${o.concurrency} each: ` +
        `sustained ${perSecond(separate.sustained)}, all in ${separate.seconds.toFixed(1)} s; ${count(separate.succeeded)} succeeded.${late(separate)}`,
    );
  } finally {
    await server.stop();
  }
  const one = results.get(o.counts[0])!;
  return { notes, figures: [...o.counts.map((d) => figure(d, results.get(d)!, one)), limit(max, separate, one)] };
}

/** The burst on `d` daemons over `stores`, the jobs split evenly between them, all due at one instant. */
async function burst(o: DaemonsOptions, d: number, stores: Sandbox[], server: TargetServer): Promise<BurstResult> {
  const per = Math.ceil(o.jobs / stores.length);
  let at: number | undefined;
  stores.forEach((sb, k) => {
    at = applyBurst(sb, { n: Math.min(per, o.jobs - k * per), from: k * per, at, kind: 'http', url: server.url, leadMs: 5_000 + 1_000 * d });
  });
  await server.dump();
  const { result } = await runBurst(stores, { n: o.jobs, at: at!, daemons: d, concurrency: o.concurrency, timeoutMs: 180_000 });
  result.duplicates = duplicates(await server.dump());
  return result;
}

/** Marks a burst that a daemon came up for after its due instant: a catch-up, not the burst measured. */
function late(r: BurstResult): string {
  return r.lateMs > 0 ? ` NOT COMPARABLE: a daemon was up ${Math.round(r.lateMs)} ms after the due instant (a catch-up burst).` : '';
}

function limit(d: number, r: BurstResult, one: BurstResult): Figure {
  return {
    section: 'daemons',
    name: `${d} daemons, a store each (the machine's limit for ${d} daemons)`,
    value: `${perSecond(r.sustained)}, ${r.duplicates} dup`,
    baseline: `1 daemon ${perSecond(one.sustained)}`,
    compare: ratio(r.sustained / one.sustained),
    target: '-',
  };
}

function figure(d: number, r: BurstResult, one: BurstResult): Figure {
  const rel = r.sustained / one.sustained;
  const isTarget = d === 4;
  const met = isTarget ? rel >= 0.9 && r.duplicates === 0 : r.duplicates === 0;
  const misses = [rel < 0.9 && isTarget ? `${ratio(rel)} of one daemon` : '', r.duplicates ? `${r.duplicates} duplicate(s)` : ''].filter(Boolean);
  return {
    section: 'daemons',
    name: `${d} daemon${d > 1 ? 's' : ''} on one store: throughput, duplicates`,
    value: `${perSecond(r.sustained)}, ${r.duplicates} dup`,
    baseline: d === 1 ? '-' : `1 daemon ${perSecond(one.sustained)}`,
    compare: d === 1 ? '-' : ratio(rel),
    target: isTarget ? '>= 0.90x, 0 dup' : '0 dup',
    met,
    miss: misses.length ? misses.join('; ') : undefined,
  };
}
