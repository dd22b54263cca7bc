// One line per event on stdout: an ISO instant, the event, the job and the occurrence.
// Logs never contain expanded secrets: only the job's stored definition and results.

export type LogEvent =
  | 'started' | 'stopping' | 'stopped' | 'applied' | 'reloaded' | 'fired' | 'succeeded' | 'failed'
  | 'retrying' | 'skipped' | 'queued' | 'replaced' | 'missed' | 'catchup' | 'abandoned' | 'recovered'
  | 'released' | 'error' | 'clock' | 'pruned' | 'done';

export type Logger = (event: LogEvent, text: string) => void;

export function lineLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return (event, text) => write(`${new Date().toISOString()} ${event.padEnd(9)} ${text}\n`);
}

export const silentLogger: Logger = () => {};
