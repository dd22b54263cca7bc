// `npm run bench`: measures the real tock (CLI and daemon as child processes, on stores in
// a temp directory, targets on 127.0.0.1) and prints each figure beside a limit or a
// baseline measured in the same run. Writes bench/RESULTS.md after a full run.
//
//   npm run bench                      full sizes (about 10 minutes)
//   npm run bench -- --quick           smaller sizes (a few minutes); prints only
//   options: --only precision,throughput,scale,daemons,startup
//            --profile   also CPU-profile the daemon and the slow commands (notes in the output)
//            --out FILE  write the results there (default bench/RESULTS.md for a full run)
//            --keep      keep the temp directory (stores, daemon logs, profiles)
//            --set section.key=value   override a size, e.g. --set scale.jobs=20000 --set throughput.concurrencies=8,32
//   TOCK_BENCH_BIN=/other/checkout/bin/tock.js measures another build (before/after a change)
//   TOCK_BENCH_DAEMON_FLAGS='--trace-gc' adds node flags to the daemons (output lands in their logs)

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { daemons } from './daemons.js';
import type { Figure, SectionResult } from './lib/figures.js';
import { loadAverage, machine } from './lib/machine.js';
import { textTable, writeResults } from './lib/report.js';
import { benchDir, BIN, cleanupSandboxes, ROOT } from './lib/tock.js';
import { precision } from './precision.js';
import { scale } from './scale.js';
import { startup } from './startup.js';
import { throughput } from './throughput.js';

const SECTIONS = ['startup', 'precision', 'throughput', 'daemons', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

const SIZES = {
  quick: {
    precision: { jobs: 2_000, perSecond: 200, durationS: 15, warmupS: 3 },
    throughput: { concurrencies: [4, 16, 64], httpJobs: 1_500, shellJobs: 500, baselineMs: 1_500, historyJobs: 500, historyPerJob: 200 },
    daemons: { jobs: 1_500, counts: [1, 2, 4], concurrency: 0 },
    scale: { jobs: 10_000, historyRows: 100_000, idleS: 20, settleS: 10, cliRuns: 3 },
    startupRuns: 10,
  },
  full: {
    precision: { jobs: 10_000, perSecond: 200, durationS: 70, warmupS: 5 },
    throughput: { concurrencies: [1, 4, 16, 64], httpJobs: 5_000, shellJobs: 2_000, baselineMs: 3_000, historyJobs: 1_000, historyPerJob: 1_000 },
    // concurrency 0: the best HTTP concurrency of the throughput section (16 if it did not run)
    daemons: { jobs: 20_000, counts: [1, 2, 4], concurrency: 0 },
    scale: { jobs: 100_000, historyRows: 1_000_000, idleS: 60, settleS: 60, cliRuns: 5 },
    startupRuns: 20,
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const mode = values.quick ? 'quick' : 'full';
  const size = SIZES[mode];
  for (const s of values.set ?? []) override(size as unknown as Record<string, unknown>, s);
  const only = values.only ? (values.only.split(',') as Section[]) : [...SECTIONS];
  const unknown = only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  const profile = values.profile;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  console.log(`tock bench (${mode}) of ${BIN} in ${benchDir()}; ${os.availableParallelism()} CPUs; load ${loadBefore}`);
  const figures: Figure[] = [];
  const notes: string[] = [];
  let concurrency = 16;
  const run = async (name: Section, fn: () => Promise<SectionResult> | SectionResult) => {
    if (!only.includes(name)) return;
    const t0 = performance.now();
    console.log(`\n== ${name} (load ${loadAverage()})`);
    const r = await fn();
    figures.push(...r.figures);
    notes.push(...r.notes);
    for (const n of r.notes) console.log(n);
    console.log(`${textTable(r.figures)}\n(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  };
  try {
    await run('startup', () => startup(size.startupRuns, profile));
    await run('precision', () => precision({ ...size.precision, profile }));
    await run('throughput', async () => {
      const r = await throughput({ ...size.throughput, profile });
      concurrency = r.bestHttpConcurrency;
      return r;
    });
    await run('daemons', () => daemons({ ...size.daemons, concurrency: size.daemons.concurrency || concurrency }));
    await run('scale', () => scale({ ...size.scale, profile }));
  } finally {
    if (!values.keep) cleanupSandboxes();
  }
  const loadAfter = loadAverage();
  const minutes = (performance.now() - started) / 60_000;
  console.log(`\n== results (${mode}, ${minutes.toFixed(1)} min, load ${loadBefore} before, ${loadAfter} after)\n${textTable(figures)}`);
  const out = values.out ?? (mode === 'full' && only.length === SECTIONS.length ? path.join(ROOT, 'bench', 'RESULTS.md') : undefined);
  if (out) {
    writeResults(out, { mode, machine: { ...machine(), date: startedAt }, loadBefore, loadAfter, minutes, figures, notes });
    console.log(`\nwritten to ${out}`);
  }
}

/** `section.key=value`: a number, or numbers separated by commas. */
function override(sizes: Record<string, unknown>, setting: string): void {
  const m = /^(\w+)\.(\w+)=([\d,_]+)$/.exec(setting);
  const section = m && (sizes[m[1]] as Record<string, unknown> | undefined);
  if (!m || !section || !(m[2] in section)) throw new Error(`--set ${setting}: expected section.key=number(s), e.g. scale.jobs=20000`);
  const numbers = m[3].split(',').map((v) => Number(v.replace(/_/g, '')));
  section[m[2]] = Array.isArray(section[m[2]]) ? numbers : numbers[0];
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
