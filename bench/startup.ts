// CLI start-up: `tock list` with 20 jobs against `node -e 0`, interleaved so that any
// drift in the machine's load touches both alike.

import path from 'node:path';
import type { SectionResult } from './lib/figures.js';
import { median, ms, ratio } from './lib/stats.js';
import { sandbox, timed, tock, tockOk, writeJobsFile } from './lib/tock.js';
import { BIN } from './lib/tock.js';
import { formatProfile, newestProfile, summarizeProfile } from './lib/profile.js';

export function startup(runs: number, profile: boolean): SectionResult {
  const sb = sandbox('startup');
  const file = path.join(sb.dir, 'jobs.yaml');
  writeJobsFile(
    file,
    Array.from({ length: 20 }, (_, i) => ({
      name: `job-${i}`,
      ...(i % 3 === 0 ? { cron: `${i} 3 * * MON-FRI`, timezone: 'Europe/Berlin' } : { every: `${i + 1}m` }),
      ...(i % 2 === 0 ? { shell: `echo ${i}` } : { http: `http://127.0.0.1:9/hook/${i}` }),
    })),
  );
  tockOk(sb, ['apply', file]);
  const node: number[] = [];
  const list: number[] = [];
  tock(sb, ['list']); // warm the file cache, for both
  for (let i = 0; i < runs; i++) {
    node.push(timed(process.execPath, ['-e', '0'], sb).ms);
    list.push(tockOk(sb, ['list']).ms);
  }
  const n = median(node);
  const l = median(list);
  const r = l / n;
  const notes = [`CLI start-up: ${runs} runs each, interleaved; tock list median ${ms(l, 1)}, node -e 0 median ${ms(n, 1)}.`];
  if (profile) {
    const dir = path.join(sb.dir, 'profile');
    timed(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, BIN, 'list'], sb);
    const prof = newestProfile(dir);
    if (prof) notes.push(`CPU profile of \`tock list\` with 20 jobs (${prof}):\n${formatProfile(summarizeProfile(prof))}`);
  }
  return {
    notes,
    figures: [
      {
        section: 'startup',
        name: '`tock list`, 20 jobs',
        value: ms(l, 0),
        baseline: `node -e 0 ${ms(n, 0)}`,
        compare: ratio(r),
        target: '<= 3.00x',
        met: r <= 3,
        miss: r > 3 ? `${ratio(r)}; ${ms(l - 3 * n, 0)} over` : undefined,
      },
    ],
  };
}
