// Leases: this daemon's heartbeat (renewing its leases and fetching cancel requests), and
// the takeover of occurrences whose runner is gone: abandoned (at-most-once) or re-run
// with the same key, after killing what the dead runner's attempt left running.

import type { Occurrence, Runner, TakeOverRequest, TakeOverResult } from '../store/backend.js';
import { killOrphans } from '../exec/orphans.js';
import type { RoleContext } from './context.js';
import { judge } from './identity.js';
import type { Slots } from './slots.js';
import type { Waitlist } from './waiting.js';

/** Heartbeat while holding leases; an idle daemon beats less often (each beat is a synced write). */
const HEARTBEAT_MS = 2_000;
const IDLE_HEARTBEAT_MS = 10_000;

/**
 * A lease owner as recovery sees it: gone by its own word (stopped, or no row), proven dead
 * here (this boot and PID namespace, its process gone), or holding its lease until it lapses.
 */
type OwnerState = 'exited' | 'dead' | 'leased';

export class Leases {
  private next = 0;

  constructor(
    private readonly ctx: RoleContext,
    private readonly slots: Slots,
    private readonly waiting: Waitlist,
    private readonly jobExists: (job: string) => boolean,
  ) {}

  wakeAt(): number {
    return this.next;
  }

  /** Beats when due, and takes over what lapsed meanwhile. */
  async tend(now: number): Promise<void> {
    if (now < this.next) return;
    const idle = this.slots.size === 0 && this.waiting.size === 0;
    this.next = now + Math.min(idle ? IDLE_HEARTBEAT_MS : HEARTBEAT_MS, this.ctx.leaseMs / 3);
    this.slots.cancel(await this.ctx.backend.heartbeat(this.ctx.id, now, this.ctx.leaseMs));
    await this.recover(now);
  }

  /** Occurrences whose runner is gone: abandon (at-most-once) or re-run with the same key. */
  private async recover(now: number): Promise<void> {
    const foreign = (await this.ctx.backend.activeOccurrences()).filter((o) => o.leaseOwner !== this.ctx.id);
    if (foreign.length === 0) return;
    const owners = await this.owners(foreign);
    const reqs: TakeOverRequest[] = [];
    for (const o of foreign) {
      const why = lapse(o, now, owners);
      if (why) reqs.push({ occurrence: o, why, jobExists: this.jobExists(o.job) });
    }
    if (reqs.length === 0) return;
    const results = await this.ctx.backend.takeOver(this.ctx.id, now, this.ctx.leaseMs, reqs);
    const storeId = this.slots.runner.storeId;
    results.forEach((r, i) => this.tookOver(reqs[i].occurrence, r, now, storeId));
  }

  private async owners(occs: Occurrence[]): Promise<Map<string, OwnerState>> {
    const ids = [...new Set(occs.flatMap((o) => (o.leaseOwner === null ? [] : [o.leaseOwner])))];
    const found = new Map((ids.length ? await this.ctx.backend.runners(ids) : []).map((r) => [r.id, r]));
    return new Map(ids.map((id) => [id, ownerState(found.get(id))]));
  }

  private tookOver(o: Occurrence, r: TakeOverResult, now: number, storeId: string): void {
    const { log } = this.ctx;
    const previous = o.leaseOwner;
    if (r.kind === 'pending') {
      this.waiting.add({ id: o.id, job: o.job, at: Math.max(o.nextAttemptAt ?? now, now), scheduledAt: o.scheduledAt });
      log('recovered', `${o.job} #${o.id}: pending occurrence taken over from ${previous ?? 'nobody'}`);
    } else if (r.kind === 'abandoned') {
      log('abandoned', `${o.job} #${o.id}: ${r.reason} (at-most-once: not re-run)`);
    } else if (r.kind === 'failed') {
      log('failed', `${o.job} #${o.id}: ${r.reason}`);
    } else if (r.kind === 'rerun') {
      this.waiting.add({ id: o.id, job: o.job, at: now, scheduledAt: o.scheduledAt });
      // Only what that runner of this store started for this occurrence: never another store's.
      const killed = previous === null ? 0 : killOrphans({ storeId, runnerId: previous, occurrenceId: o.id });
      const orphans = killed ? `; killed ${killed} leftover process group(s) of the previous attempt` : '';
      log('recovered', `${o.job} #${o.id}: ${r.reason}; re-running with the same key ${o.key}${orphans}`);
    }
  }
}

function ownerState(owner: Runner | undefined): OwnerState {
  if (!owner || owner.stoppedAt !== null) return 'exited';
  const process = { pid: owner.pid, boot_id: owner.bootId, pid_ns: owner.pidNs, start_ticks: owner.startTicks };
  return judge(process) === 'dead' ? 'dead' : 'leased';
}

/** Why the occurrence's runner no longer holds it, or undefined while it does. */
function lapse(o: Occurrence, now: number, owners: Map<string, OwnerState>): string | undefined {
  if (o.leaseOwner === null) return 'no runner held it';
  const owner = owners.get(o.leaseOwner);
  if (owner === 'exited') return `runner ${o.leaseOwner} exited`;
  if (owner === 'dead') return `runner ${o.leaseOwner} died`;
  // Alive but silent (stopped, hung), or out of our sight (another host, container or
  // PID namespace): the lease alone decides, and it cannot tell which.
  if ((o.leaseExpiresAt ?? 0) < now) return `runner ${o.leaseOwner} stopped renewing its lease (dead or unresponsive)`;
  return undefined;
}
