// Typed errors: every failure a user can cause or meet carries its exit status,
// and src/cli/main.ts is the one place that turns them into a `tock:` line.

export const EXIT = {
  ok: 0,
  failed: 1, // a job run failed, or a runtime error
  usage: 2, // bad input: the store is left unchanged
  notFound: 3, // no such job or occurrence
} as const;

export type ErrorKind = 'usage' | 'validation' | 'not_found' | 'store' | 'runtime';

export class TockError extends Error {
  /** Trouble that passes by itself or by fixing the machine (a lock, a full disk): worth waiting out. */
  transient = false;

  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'TockError';
  }
}

/** Bad input from a flag, argument or file; exit 2. */
export function usageError(message: string): TockError {
  return new TockError(message, 'usage', EXIT.usage);
}

/** A job or occurrence that does not exist; exit 3. */
export function notFound(message: string): TockError {
  return new TockError(message, 'not_found', EXIT.notFound);
}

/** The store cannot be used as it is (corrupt, newer schema, locked); exit 2, nothing written. */
export function storeError(message: string): TockError {
  return new TockError(message, 'store', EXIT.usage);
}

/** Something failed at run time that is not the user's input; exit 1. */
export function runtimeError(message: string): TockError {
  return new TockError(message, 'runtime', EXIT.failed);
}

/** Every problem found in one input, each with its path (`jobs[2].cron: ...`). */
export class ValidationErrors extends TockError {
  readonly problems: string[];
  constructor(problems: string[], summary?: string) {
    const unique = [...new Set(problems)];
    super((summary ? `${summary}: ` : '') + unique.join('; '), 'validation', EXIT.usage);
    this.problems = unique;
    this.name = 'ValidationErrors';
  }
}
