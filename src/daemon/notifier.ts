// The notifier: delivers the notification outbox. On a timer of its own, never on the
// loop's path, it claims due rows under a lease (a batch at most the room it has), sends
// each through src/notify/ concurrently (at most MAX_IN_FLIGHT at once), and settles it:
// sent; or tried again with backoff under the same key; or failed, for an error no retry
// cures or after MAX_TRIES. A daemon that dies holding rows leaves them to whichever daemon
// sees their lease lapse: delivery is at least once, each row with its own key.

import type { DeliveryOutcome, OutboxEntry } from '../store/notifications.js';
import { send as sendNotification, SEND_TIMEOUT_MS, type SendResult } from '../notify/send.js';
import { formatDuration } from '../schedule/index.js';
import { describe, isTransient, type RoleContext } from './context.js';
import { delay } from './clock.js';

/** A row is tried at most this many times, then left failed with its last error. */
export const MAX_TRIES = 10;
const MAX_IN_FLIGHT = 8;
const POLL_MS = 500;
/** Longer than a send may take, so a live holder settles before its lease lapses. */
const LEASE_MS = SEND_TIMEOUT_MS * 2;
/** On stop, sends still going after this are cut short and handed back. */
const STOP_WAIT_MS = 2_000;

export type Sender = typeof sendNotification;

/** 1 s, 2 s, 4 s... doubling up to 5 minutes: the delay before try n + 1 after try n failed. */
export function backoffMs(tries: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, tries - 1), 5 * 60_000);
}

/** What a send's result makes of the row. */
export function outcomeOf(n: OutboxEntry, r: SendResult, now: number): DeliveryOutcome {
  if (r.ok) return { id: n.id, kind: 'sent' };
  if (!r.transient) return { id: n.id, kind: 'failed', error: r.error };
  if (n.attempts >= MAX_TRIES) return { id: n.id, kind: 'failed', error: `gave up after ${n.attempts} tries: ${r.error}` };
  return { id: n.id, kind: 'retry', at: now + backoffMs(n.attempts), error: r.error };
}

export class Notifier {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private claiming = false;
  private stopped = false;

  constructor(
    private readonly ctx: RoleContext,
    private readonly o: { env: NodeJS.ProcessEnv; storeId: () => string; send?: Sender },
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Stops claiming; lets sends under way finish briefly, then cuts them short (their rows go back, due now). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.inFlight.size === 0) return;
    const all = Promise.all(this.inFlight.values());
    const patience = new AbortController();
    const waited = await Promise.race([all.then(() => true), delay(STOP_WAIT_MS, patience.signal).then(() => false)]);
    patience.abort(); // no timer left to hold the process
    if (!waited) {
      this.controller.abort('daemon stopping');
      await all;
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // Unref'd: the loop keeps the daemon alive, not the outbox's poll.
    this.timer = setTimeout(() => void this.pass(), ms).unref();
  }

  /** One claim: as many due rows as there is room for. */
  private async pass(): Promise<void> {
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    if (this.claiming || this.stopped || room <= 0) return;
    const { backend, clock, id } = this.ctx;
    this.claiming = true;
    let claimed: OutboxEntry[] = [];
    try {
      claimed = await backend.claimNotifications(id, clock.now(), LEASE_MS, room);
    } catch (err) {
      this.ctx.log('error', `notifications not claimed: ${describe(err)}`);
    } finally {
      this.claiming = false;
    }
    for (const n of claimed) this.deliver(n);
    // A full batch: more may be due at once.
    this.schedule(claimed.length === room ? 0 : POLL_MS);
  }

  private deliver(n: OutboxEntry): void {
    const done = this.sendOne(n).finally(() => {
      this.inFlight.delete(n.id);
      if (!this.stopped && !this.claiming) this.schedule(0);
    });
    this.inFlight.set(n.id, done);
  }

  private async sendOne(n: OutboxEntry): Promise<void> {
    const send = this.o.send ?? sendNotification;
    const r = await send(n.target, n.payload, { env: this.o.env, attempt: n.attempts, storeId: this.o.storeId(), signal: this.controller.signal });
    const now = this.ctx.clock.now();
    // Cut short by stop: not a try, handed back at once for any daemon.
    const outcome: DeliveryOutcome = this.controller.signal.aborted && !r.ok ? { id: n.id, kind: 'retry', at: now, error: 'the daemon stopped while sending' } : outcomeOf(n, r, now);
    this.logOutcome(n, outcome);
    await this.settle(outcome);
  }

  /** A store that is busy for a moment is waited out; past a few tries the lease lapses and the row is sent again. */
  private async settle(outcome: DeliveryOutcome): Promise<void> {
    for (let wait = 50; ; wait *= 2) {
      try {
        await this.ctx.backend.settleNotifications(this.ctx.id, this.ctx.clock.now(), [outcome]);
        return;
      } catch (err) {
        if (!isTransient(err) || wait > 2_000) return this.ctx.log('error', `notification ${outcome.id} not settled: ${describe(err)}`);
        await delay(wait);
      }
    }
  }

  private logOutcome(n: OutboxEntry, o: DeliveryOutcome): void {
    const what = `${n.event} of ${n.job} #${n.occurrenceId} to channel ${n.channel} (${n.target.kind}), try ${n.attempts}`;
    if (o.kind === 'sent') this.ctx.log('notified', what);
    else if (o.kind === 'retry') this.ctx.log('error', `notification ${what}: ${o.error}; again in ${formatDuration(Math.max(0, o.at - this.ctx.clock.now()))}`);
    else this.ctx.log('error', `notification ${what} failed for good: ${o.error}`);
  }
}
