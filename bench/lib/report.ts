// The results: a table on stdout and bench/RESULTS.md. RESULTS.md keeps the hand-written
// analysis between its `<!-- analysis -->` markers when it is regenerated.

import fs from 'node:fs';
import { table } from '../../src/cli/table.js';
import type { Figure } from './figures.js';
import type { Machine } from './machine.js';

export interface Report {
  mode: 'quick' | 'full';
  machine: Machine;
  loadBefore: string;
  loadAfter: string;
  minutes: number;
  figures: Figure[];
  notes: string[];
}

function met(f: Figure): string {
  return f.met === undefined ? '-' : f.met ? 'yes' : `NO (${f.miss ?? 'missed'})`;
}

export function textTable(figures: Figure[]): string {
  return table(
    ['FIGURE', 'VALUE', 'BASELINE / LIMIT', 'RATIO / DELTA', 'TARGET', 'MET'],
    figures.map((f) => [f.name, f.value, f.baseline, f.compare, f.target, met(f)]),
  );
}

function markdownTable(figures: Figure[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| figure | value | baseline / limit (same run) | ratio / delta | target | met |',
    '|---|---|---|---|---|---|',
    ...figures.map((f) => `| ${[f.name, f.value, f.baseline, f.compare, f.target, met(f)].map(cell).join(' | ')} |`),
  ].join('\n');
}

const START = '<!-- analysis -->';
const END = '<!-- /analysis -->';

export function writeResults(file: string, r: Report): void {
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const kept = previous.includes(START) && previous.includes(END) ? previous.slice(previous.indexOf(START), previous.indexOf(END) + END.length) : `${START}\n${END}`;
  const m = r.machine;
  const missed = r.figures.filter((f) => f.met === false);
  const text = [
    '# tock benchmark results',
    '',
    `Produced by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` (bench/run.ts), started ${m.date}, in ${r.minutes.toFixed(1)} minutes.`,
    'Every baseline and limit beside a figure was measured in the same run, on the same machine.',
    '',
    '## Machine',
    '',
    `- ${m.cpus} CPUs: ${m.cpuModel}`,
    `- memory: ${m.memoryGb.toFixed(1)} GiB; ${m.kernel}; temp dir ${m.tmpdir}`,
    `- Node ${m.node}; SQLite ${m.sqlite} (better-sqlite3); tock commit ${m.commit}`,
    `- load average (1 / 5 / 15 min): ${r.loadBefore} before, ${r.loadAfter} after`,
    '',
    '## Figures',
    '',
    markdownTable(r.figures),
    '',
    missed.length ? `Missed: ${missed.map((f) => `${f.name} (${f.miss})`).join('; ')}.` : 'Every target was met.',
    '',
    '## Analysis',
    '',
    kept,
    '',
    '## Details of this run',
    '',
    '```',
    ...r.notes,
    '```',
    '',
  ].join('\n');
  fs.writeFileSync(file, text);
}
