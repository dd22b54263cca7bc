// The notification outbox as the Backend speaks of it (issue 15, the notifications half):
// rows written in the transaction that records a result, claimed by a daemon with a lease,
// delivered, and settled. Domain types only; each backend maps its rows to them.

import type { NotificationEvent } from '../notify/event.js';
import type { NotifyEvent, NotifyTarget } from '../types.js';

export type OutboxState = 'pending' | 'sent' | 'failed';

/** One notification: one event of one occurrence for one channel of its job. */
export interface OutboxEntry {
  id: number;
  /** notificationKey(occurrence key, event, channel): unique, so writing it twice is a no-op. */
  key: string;
  job: string;
  occurrenceId: number;
  event: NotifyEvent;
  /** The channel's index in the job's notify: list when the row was written. */
  channel: number;
  /** The channel as it was then: delivery does not depend on the job still being there. */
  target: NotifyTarget;
  payload: NotificationEvent;
  state: OutboxState;
  /** Tries so far; a claim counts one. */
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

/** `late` or `long`, noticed by a daemon about an occurrence it runs. */
export interface Notice {
  occurrenceId: number;
  event: 'late' | 'long';
  /** Why, in words: "started 2m late", "still running after 10m". */
  reason: string;
}

/** What became of one claimed notification. */
export type DeliveryOutcome =
  | { id: number; kind: 'sent' }
  /** Transient trouble: tried again at `at`, under the same key. */
  | { id: number; kind: 'retry'; at: number; error: string }
  | { id: number; kind: 'failed'; error: string };

export interface NotificationFilter {
  job?: string;
  state?: OutboxState;
  limit: number;
}
