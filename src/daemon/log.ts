// One line per event on stdout: an ISO instant, the event, the job and the occurrence.
// Logs never contain expanded secrets: only the job's stored definition and results.
// Control characters in them (an HTTP reason phrase, an error) are escaped: a line stays
// one line, and a terminal or journalctl showing it is never driven by a target.

import { escapeLine } from '../escape.js';
import { systemClock, type Clock } from './clock.js';

export type LogEvent =
  | 'started' | 'stopping' | 'stopped' | 'applied' | 'reloaded' | 'fired' | 'succeeded' | 'failed'
  | 'retrying' | 'skipped' | 'queued' | 'replaced' | 'missed' | 'catchup' | 'abandoned' | 'recovered'
  | 'released' | 'error' | 'clock' | 'pruned' | 'done'
  | 'notified' | 'noticed' | 'listening';

export type Logger = (event: LogEvent, text: string) => void;

export function lineLogger(write: (line: string) => void = (l) => process.stdout.write(l), clock: Clock = systemClock): Logger {
  return (event, text) => write(`${new Date(clock.now()).toISOString()} ${event.padEnd(9)} ${escapeLine(text)}\n`);
}

export const silentLogger: Logger = () => {};
