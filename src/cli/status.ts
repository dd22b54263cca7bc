// `tock status`: live daemons (host, pid, since, last heartbeat) and occurrences by state.

import type { RunnerRow } from '../store/index.js';
import { judge } from '../daemon/identity.js';
import { STATES } from '../store/index.js';
import type { GlobalOptions } from './program.js';
import { iso, print, printJson, span, stateColor, useColor, when, withStore } from './io.js';
import { table } from './table.js';
import { escapeLine } from '../escape.js';

/** A runner is live if it has not stopped and beat within this long (it beats every 2-10 s). */
const LIVE_MS = 30_000;

export default async function status(_args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  await useColor(global);
  await withStore(global, (store) => {
    const now = Date.now();
    const { runners, counts, jobs } = store.read(() => ({
      runners: store.runners.unstopped().filter((r) => isLive(r, now)),
      counts: store.occurrences.countsByState(),
      jobs: store.jobs.list(),
    }));
    const byState = Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0]));
    const daemons = runners.map((r) => ({
      id: r.id,
      kind: r.kind,
      host: r.host,
      pid: r.pid,
      version: r.version,
      since: iso(r.started_at),
      last_heartbeat: iso(r.heartbeat_at),
    }));
    if (global.json) {
      return printJson({
        store: store.file,
        daemons,
        jobs: { total: jobs.length, paused: jobs.filter((j) => j.paused).length },
        occurrences: byState,
      });
    }
    print(`store  ${escapeLine(store.file)}`);
    print(`jobs   ${jobs.length} (${jobs.filter((j) => j.paused).length} paused)\n`);
    if (daemons.length === 0) print('no live daemon: nothing fires; start one with `tock daemon`');
    else
      print(
        table(
          ['KIND', 'HOST', 'PID', 'SINCE', 'HEARTBEAT'],
          runners.map((r) => [escapeLine(r.kind), escapeLine(r.host), String(r.pid), when(r.started_at), `${span(now - r.heartbeat_at)} ago`]),
        ),
      );
    print('');
    print(table(['STATE', 'OCCURRENCES'], STATES.map((s) => [stateColor(s), String(byState[s])])));
  });
}

/** Beat recently, and not proven dead (a runner in another PID namespace or host cannot be looked up). */
function isLive(r: RunnerRow, now: number): boolean {
  return now - r.heartbeat_at <= LIVE_MS && judge(r) !== 'dead';
}
