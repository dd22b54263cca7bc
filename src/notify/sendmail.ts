// Finding sendmail as cron does, and checkChannels, which the apply path calls so that an
// email channel on a machine without sendmail is refused when the jobs are applied rather
// than discovered when the first failure cannot be reported.

import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { JobSpec } from '../types.js';

/** sendmail as cron finds it: on $PATH, else where MTAs install it. */
export function findSendmail(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? '').split(':').filter((d) => d !== '');
  const candidates = [...dirs.map((d) => path.join(d, 'sendmail')), '/usr/sbin/sendmail', '/usr/lib/sendmail'];
  return candidates.find((file) => isExecutable(file));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Refuses (exit 2) jobs whose channels cannot work on this machine: email without a sendmail. */
export function checkChannels(specs: JobSpec | JobSpec[], env: NodeJS.ProcessEnv = process.env): void {
  const mailing = (Array.isArray(specs) ? specs : [specs]).filter((s) => s.notify?.some((c) => c.target.kind === 'email'));
  if (mailing.length === 0 || findSendmail(env)) return;
  const names = mailing.map((s) => s.name).join(', ');
  throw usageError(`no sendmail found (looked on $PATH, /usr/sbin, /usr/lib) for the email notifications of ${names}: install an MTA (e.g. apt-get install msmtp-mta) or use a shell or http channel`);
}
