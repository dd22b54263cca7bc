// Reads a V8 CPU profile (node --cpu-prof) and says where the time went: self time per
// function and total time per source file, heaviest first. Used for the figures that miss
// their target, and runnable by hand: node dist/bench/lib/profile.js <file.cpuprofile>.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Hotspot {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time per function. */
  functions: Hotspot[];
  /** Inclusive time per function (a function's own time plus everything it called). */
  inclusive: Hotspot[];
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = [...selfUs.values()].reduce((s, v) => s + v, 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    add(self, label(node.callFrame), us);
    // Each function on the sample's stack gets the sample once, however deep its recursion.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = label(byId.get(cur)!.callFrame);
      if (!seen.has(name)) add(inclusive, name, us);
      seen.add(name);
    }
  }
  return { totalMs: total / 1000, functions: rank(self, total, top), inclusive: rank(inclusive, total, top) };
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function rank(m: Map<string, number>, total: number, top: number): Hotspot[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total ? us / total : 0 }));
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '');
  const short = file.includes('/node_modules/')
    ? file.slice(file.lastIndexOf('/node_modules/') + 14)
    : file.includes('/dist/')
      ? file.slice(file.lastIndexOf('/dist/') + 6)
      : path.basename(file);
  return `${name} (${short}:${f.lineNumber + 1})`;
}

export function formatProfile(s: ProfileSummary, rows = 12): string {
  const line = (h: Hotspot) => `  ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.ms.toFixed(0).padStart(7)} ms  ${h.name}`;
  return [
    `sampled ${s.totalMs.toFixed(0)} ms`,
    'self time:',
    ...s.functions.slice(0, rows).map(line),
    'inclusive time:',
    ...s.inclusive.slice(0, rows).map(line),
  ].join('\n');
}

/** The newest .cpuprofile in a directory (node names them by time and pid). */
export function newestProfile(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of process.argv.slice(2)) console.log(`${f}\n${formatProfile(summarizeProfile(f, 25), 25)}\n`);
}
