// Stopping a shell target's whole process group, like systemd's KillMode=control-group:
// SIGTERM to the group, SIGKILL after the grace period to whatever is still alive.
// Zombies do not count as alive: an orphan whose reaper never reaps it (a container
// whose PID 1 is not an init) can no longer do anything, and waiting for it never ends.

import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './timer.js';

const POLL_MS = 50;
/** How long SIGKILLed processes get to disappear before we stop looking. */
const AFTER_KILL_MS = 1_000;

/** Groups of targets running in this process, so an immediate exit can take them along. */
const running = new Set<number>();

export function trackGroup(pgid: number): () => void {
  running.add(pgid);
  return () => running.delete(pgid);
}

/**
 * SIGKILLs every target group this process started, synchronously: for a runner that must
 * exit at once (a second SIGTERM), so no target outlives it unrecorded.
 */
export function killRunningGroupsNow(): number {
  for (const pgid of running) signalGroup(pgid, 'SIGKILL');
  return running.size;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

/** Does any process of the group still run (zombies excluded)? */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return process.platform === 'linux' ? liveMemberInProc(pgid) : true;
}

/** SIGTERM the group, SIGKILL it after `graceMs` if anything is left; resolves once it is empty (or given up on). */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, AFTER_KILL_MS);
}

async function waitGroupGone(pgid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (groupAlive(pgid)) {
    const left = until - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_MS, left));
  }
  return true;
}

function liveMemberInProc(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/** /proc/<pid>/stat is `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses. */
function readStat(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}
