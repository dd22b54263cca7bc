// `tock notifications [name] [--status S] [--limit N]`: the notification outbox, newest
// first: which event of which occurrence went to which channel, when it was sent, how many
// tries it took, and the last delivery error.

import { notFound, usageError } from '../errors.js';
import { echo, escapeLine, quote } from '../escape.js';
import type { OutboxEntry, OutboxState } from '../store/notifications.js';
import type { NotifyTarget } from '../types.js';
import type { GlobalOptions } from './program.js';
import { intFlag, iso, print, printJson, stateColor, useColor, when, withBackend } from './io.js';
import { clip, table } from './table.js';
import { color } from './color.js';

const STATES: readonly OutboxState[] = ['pending', 'sent', 'failed'];

export default async function notifications(args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const filter = { job: args[0] === undefined ? undefined : String(args[0]), state: stateFlag(o.status), limit: intFlag(o.limit, '--limit', 1, 1_000_000, 20) };
  await useColor(global);
  await withBackend(global, async (backend) => {
    const rows = await backend.notifications(filter);
    const job = filter.job;
    if (rows.length === 0 && job !== undefined && !(await backend.getJob(job))) {
      throw notFound(`no job named ${echo(job)} and no notifications for it (see tock list)`);
    }
    if (global.json) return printJson(rows.map(entryJson));
    if (rows.length === 0) return print('no notifications yet');
    const lines = rows.map((n) => [
      String(n.id),
      escapeLine(n.job),
      String(n.occurrenceId),
      n.event,
      clip(escapeLine(`${n.channel}: ${targetText(n.target)}`), 40),
      n.state === 'sent' ? color.green('sent') : stateColor(n.state),
      String(n.attempts),
      when(n.state === 'pending' ? n.nextAttemptAt : n.sentAt),
      clip(n.lastError === null ? '' : escapeLine(n.lastError), 60),
    ]);
    print(table(['ID', 'JOB', 'OCCURRENCE', 'EVENT', 'CHANNEL', 'STATE', 'TRIES', 'SENT / NEXT TRY', 'LAST ERROR'], lines));
  });
}

function stateFlag(v: unknown): OutboxState | undefined {
  if (v === undefined) return undefined;
  if ((STATES as readonly unknown[]).includes(v)) return v as OutboxState;
  throw usageError(`--status ${quote(String(v))} is not one of ${STATES.join(', ')}`);
}

/** Where it goes, without the headers (they may hold credentials). */
function targetText(t: NotifyTarget): string {
  if (t.kind === 'shell') return `shell ${t.command}`;
  if (t.kind === 'http') return `${t.method} ${t.url}`;
  return `email ${t.to}`;
}

function entryJson(n: OutboxEntry): Record<string, unknown> {
  return {
    id: n.id,
    key: n.key,
    job: n.job,
    occurrence_id: n.occurrenceId,
    event: n.event,
    channel: n.channel,
    target: targetText(n.target),
    state: n.state,
    attempts: n.attempts,
    created_at: iso(n.createdAt),
    sent_at: iso(n.sentAt),
    next_attempt_at: n.state === 'pending' ? iso(n.nextAttemptAt) : null,
    last_error: n.lastError,
  };
}
