// Entry point: parses the command line and is the one place that turns errors into a
// `tock: ...` line on stderr and an exit status. No stack trace reaches a user.

import { CommanderError } from 'commander';
import { EXIT, TockError } from '../errors.js';
import { buildProgram } from './program.js';

/** Called by bin/tock.js once the bundle has loaded whole (see there). */
export async function main(argv: string[]): Promise<void> {
  // `tock list | head`: a reader that goes away ends the output, not the program with a trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    const text = err.message.replace(/^error: /, '').split('\n')[0];
    process.stderr.write(`tock: ${text} (see tock --help)\n`);
    return EXIT.usage;
  }
  if (err instanceof TockError) {
    process.stderr.write(`tock: ${oneLine(err.message)}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`tock: internal error: ${oneLine(e?.message ?? String(err))}\n`);
  if (process.env.TOCK_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return EXIT.failed;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

