// The one entry point the daemon and `tock run` call: run a target, whatever its kind,
// and always come back with an AttemptResult, even when something unexpected breaks.

import type { AttemptContext, AttemptResult, Target } from '../types.js';
import { runHttp } from './http.js';
import { oneLine } from './result.js';
import { runShell } from './shell.js';

export { expand, UnsetVariableError } from './expand.js';
export { TailBuffer } from './output.js';
export { runHttp, parseRetryAfter } from './http.js';
export { runShell } from './shell.js';
export { killRunningGroupsNow } from './process-group.js';

export async function execute(target: Target, ctx: AttemptContext, signal: AbortSignal): Promise<AttemptResult> {
  const startedAt = Date.now();
  try {
    switch (target.kind) {
      case 'shell':
        return await runShell(target, ctx, signal);
      case 'http':
        return await runHttp(target, ctx, signal);
      default:
        return internalError(`unknown target kind ${String((target as { kind?: unknown }).kind)}`, startedAt);
    }
  } catch (err) {
    return internalError(err instanceof Error ? err.message : String(err), startedAt);
  }
}

function internalError(message: string, startedAt: number): AttemptResult {
  return {
    outcome: 'failed',
    retryable: true,
    error: `internal error: ${oneLine(message)}`,
    output: '',
    outputTruncated: false,
    outputBytes: 0,
    startedAt,
    finishedAt: Date.now(),
  };
}
