// Processes of an attempt found by the TOCK_* variables in their environment (Linux /proc):
// targets left behind by a runner that died (a shell target runs in its own process group,
// so a kill -9 of the daemon leaves it running), killed before the occurrence is re-run on
// this host so the old attempt and the re-run never overlap; and children that escaped
// their attempt's process group (setsid), killed when the attempt times out or is stopped.

import { readdirSync, readFileSync } from 'node:fs';

/** SIGKILLs every process group holding a process of this occurrence; returns how many groups. */
export function killOrphans(occurrenceId: number, idempotencyKey: string): number {
  if (process.platform !== 'linux') return 0;
  const marks = [`TOCK_OCCURRENCE_ID=${occurrenceId}\0`, `TOCK_IDEMPOTENCY_KEY=${idempotencyKey}\0`];
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
      environ = `${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`;
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
