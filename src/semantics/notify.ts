// Whether a channel fires for an event, as a pure function: `after: N` turns a run of
// failures into one alert (on the Nth consecutive failure, not again until a success), and
// `recovered` closes only an alert that was opened.

import type { NotifyChannel, NotifyEvent } from '../types.js';

/** Events that extend a run of consecutive failures. */
const FAILURES: readonly NotifyEvent[] = ['failed', 'abandoned'];

/**
 * `failures`: for failed and abandoned, the consecutive failures including this one; for
 * recovered, the run of failures this success ends. Ignored for missed, late and long,
 * which fire every time they are listed (after: counts failures only).
 */
export function shouldNotify(channel: Pick<NotifyChannel, 'on' | 'after'>, event: NotifyEvent, failures: number): boolean {
  if (!channel.on.includes(event)) return false;
  const threshold = channel.after ?? 1;
  if (FAILURES.includes(event)) return channel.after === undefined || failures === threshold;
  if (event === 'recovered') return failures >= threshold;
  return true;
}

/** The indexes of a job's channels that fire (the index goes into the notification's key). */
export function channelsToNotify(channels: readonly NotifyChannel[] | undefined, event: NotifyEvent, failures: number): number[] {
  const fire: number[] = [];
  (channels ?? []).forEach((c, i) => {
    if (shouldNotify(c, event, failures)) fire.push(i);
  });
  return fire;
}
