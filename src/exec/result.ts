// Pieces both executors use to build an AttemptResult: the output fields from a TailBuffer
// and the one-line error texts that are shared.

import type { AttemptResult } from '../types.js';
import type { TailBuffer } from './output.js';

/** What an executor decided, before the output and timestamps are added. */
export type Verdict = Omit<AttemptResult, 'output' | 'outputTruncated' | 'outputBytes' | 'startedAt' | 'finishedAt'>;

export function finish(verdict: Verdict, output: TailBuffer, startedAt: number): AttemptResult {
  return {
    ...verdict,
    output: output.text(),
    outputTruncated: output.truncated,
    outputBytes: output.totalBytes,
    startedAt,
    finishedAt: Date.now(),
  };
}

export function failed(error: string, retryable: boolean): Verdict {
  return { outcome: 'failed', retryable, error };
}

export function cancelled(signal: AbortSignal): Verdict {
  const reason: unknown = signal.reason;
  const error = typeof reason === 'string' && reason !== '' ? `cancelled: ${oneLine(reason)}` : 'cancelled';
  return { outcome: 'cancelled', retryable: true, error };
}

/** Error texts are stored as one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
