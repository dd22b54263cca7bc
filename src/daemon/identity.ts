// Who a runner process is, in terms that cannot collide on one machine, and whether another
// runner is still alive. A host name and a pid collide across containers and PID namespaces
// that share a host name and a store (the same pid is a different process in each), so a
// runner is identified by the boot, its PID namespace, its pid and its start time (Linux
// /proc). Where liveness cannot be proven from here, the answer is 'unknown' and the
// runner's lease alone decides.

import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';

export interface ProcessIdentity {
  /** /proc/sys/kernel/random/boot_id: one per boot of the kernel, shared by its containers. */
  bootId: string;
  /** The PID namespace, as /proc/self/ns/pid names it (`pid:[4026531836]`). */
  pidNs: string;
  /** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTicks: number;
}

/** The columns a runner row records about its process; null where it could not be known. */
export interface RunnerProcess {
  pid: number;
  boot_id: string | null;
  pid_ns: string | null;
  start_ticks: number | null;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

let self: ProcessIdentity | null | undefined;

/** This process's identity, or null where /proc cannot tell it (not Linux, a foreign /proc). */
export function selfIdentity(): ProcessIdentity | null {
  if (self === undefined) self = readSelf();
  return self;
}

/** The runner-row columns for this process. */
export function selfProcess(): RunnerProcess {
  const me = selfIdentity();
  return { pid: process.pid, boot_id: me?.bootId ?? null, pid_ns: me?.pidNs ?? null, start_ticks: me?.startTicks ?? null };
}

/**
 * A runner id: host and pid for people reading the log, and a long random part, so no two
 * runners (of any store, on any host) share one: the id marks the processes of its attempts.
 */
export function newRunnerId(prefix = ''): string {
  return `${os.hostname()}:${process.pid}:${prefix}${randomBytes(8).toString('hex')}`;
}

/**
 * Is the runner's process alive? Only a process of this boot and this PID namespace can be
 * looked up here; anything else is 'unknown'. A pid now held by a process that started at
 * another time was reused: the runner is dead.
 */
export function judge(runner: RunnerProcess): Liveness {
  const me = selfIdentity();
  if (!me || runner.start_ticks === null || runner.boot_id !== me.bootId || runner.pid_ns !== me.pidNs) return 'unknown';
  let stat: ProcStat | undefined;
  try {
    stat = readStat(runner.pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return 'unknown';
    // /proc mounted with hidepid hides other users' processes: ask the kernel directly.
    return pidExists(runner.pid) ? 'unknown' : 'dead';
  }
  if (stat.startTicks !== runner.start_ticks || stat.state === 'Z' || stat.state === 'X') return 'dead';
  return 'alive';
}

function readSelf(): ProcessIdentity | null {
  if (process.platform !== 'linux') return null;
  try {
    // A /proc mounted for another PID namespace (unshare --pid without --mount-proc) numbers
    // processes differently from process.pid: nothing it says about a pid can be trusted.
    if (readlinkSync('/proc/self') !== String(process.pid)) return null;
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    const pidNs = readlinkSync('/proc/self/ns/pid');
    return { bootId, pidNs, startTicks: readStat(process.pid).startTicks };
  } catch {
    return null;
  }
}

interface ProcStat {
  state: string;
  startTicks: number;
}

/** /proc/<pid>/stat is `pid (comm) state ...`; comm may hold spaces and parentheses. */
function readStat(pid: number): ProcStat {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  return { state: fields[0]!, startTicks: Number(fields[19]) };
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
