// Processes of an attempt found by the TOCK_* variables in their environment (Linux /proc):
// targets left behind by a runner that died (a shell target runs in its own process group,
// so a kill -9 of the daemon leaves it running), killed before the occurrence is re-run on
// this host so the old attempt and the re-run never overlap; and children that escaped
// their attempt's process group (setsid), killed when the attempt times out or is stopped.
// A process is matched by store id, runner id and occurrence id together: the same job's
// occurrence of another store, or of another runner of this store, is never touched.

import { readdirSync, readFileSync } from 'node:fs';

/** Who started an attempt's processes: the marks its shell target's environment carries. */
export interface AttemptMark {
  storeId: string;
  runnerId: string;
  occurrenceId: number;
}

/** The environment entries that mark an attempt's processes. */
export function markEnv(mark: AttemptMark): Record<string, string> {
  return { TOCK_STORE: mark.storeId, TOCK_RUNNER: mark.runnerId, TOCK_OCCURRENCE_ID: String(mark.occurrenceId) };
}

/** SIGKILLs every process group holding a process of this attempt; returns how many groups. */
export function killOrphans(mark: AttemptMark): number {
  if (process.platform !== 'linux') return 0;
  // Whole entries, NUL to NUL: `XTOCK_RUNNER=...` or a value containing `TOCK_RUNNER=...` is no match.
  const marks = Object.entries(markEnv(mark)).map(([name, value]) => `\0${name}=${value}\0`);
  const groups = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let environ: string;
    try {
      environ = `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`;
    } catch {
      continue; // gone, or not ours to read
    }
    if (marks.every((m) => environ.includes(m))) {
      const pgrp = processGroup(pid);
      if (pgrp) groups.add(pgrp);
    }
  }
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return groups.size;
}

function processGroup(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return pgrp > 1 ? pgrp : undefined;
  } catch {
    return undefined;
  }
}
