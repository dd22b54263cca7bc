// `tock logs <occurrence-id>`: the captured output of every attempt of one occurrence.
// On a terminal the output's control characters are shown escaped (a target's output must
// not drive the reader's terminal); into a pipe or a file it is written as captured, like
// `cat`; --json has the exact text for scripts.

import { notFound } from '../errors.js';
import { escapeLine, escapeOutput } from '../escape.js';
import type { GlobalOptions } from './program.js';
import { intFlag, print, printJson, stateColor, useColor, when, withBackend } from './io.js';
import { attemptLine } from './occurrence-view.js';
import { occurrenceDocument } from './documents.js';

export default async function logs(args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  const id = intFlag(String(args[0]), 'occurrence id', 1, Number.MAX_SAFE_INTEGER, 0);
  await useColor(global);
  await withBackend(global, async (backend) => {
    if (global.json) {
      const doc = await occurrenceDocument(backend, id);
      if (!doc) throw notFound(`no occurrence #${id} (see tock history)`);
      return printJson(doc);
    }
    const occ = await backend.occurrence(id);
    if (!occ) throw notFound(`no occurrence #${id} (see tock history)`);
    const attempts = await backend.attempts(id, true);
    const shown = process.stdout.isTTY ? escapeOutput : (text: string) => text;
    print(`${escapeLine(occ.job)} #${id} scheduled ${when(occ.scheduledAt)}, ${stateColor(occ.state)}${occ.reason ? `: ${escapeLine(occ.reason)}` : ''}`);
    if (attempts.length === 0) print('no attempts: it never executed');
    for (const a of attempts) {
      print(`\n=== ${attemptLine(a)} (started ${when(a.startedAt)})`);
      if (a.outputTruncated) print(`(${a.outputBytes} bytes produced; the tail is kept)`);
      print(a.output ? shown(a.output.replace(/\n$/, '')) : '(no output)');
    }
  });
}
