// Entry point: parses the command line and is the one place that turns errors into a
// `tock: ...` line on stderr and an exit status. No stack trace reaches a user.

import { CommanderError } from 'commander';
import { EXIT, TockError } from '../errors.js';
import { echo, escapeLine } from '../escape.js';
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

/** Room for commander's own words around the argument it quotes. */
const COMMANDER_LIMIT = 120;

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    // commander quotes the offending argument whole: cut it like any echoed input.
    const text = echo(err.message.replace(/^error: /, '').split('\n')[0], COMMANDER_LIMIT);
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

/** Messages quote input, paths and stored names: whatever they carry, they print as one escaped line. */
function oneLine(text: string): string {
  return escapeLine(text.replace(/\s*\n\s*/g, ' ').trim());
}

