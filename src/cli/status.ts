// `tock status`: live daemons (host, pid, since, last heartbeat) and occurrences by state.

import { judge } from '../daemon/identity.js';
import { STATES, type Runner } from '../store/backend.js';
import type { GlobalOptions } from './program.js';
import { iso, print, printJson, span, stateColor, useColor, when, withBackend } from './io.js';
import { table } from './table.js';
import { escapeLine } from '../escape.js';

/** A runner is live if it has not stopped and beat within this long (it beats every 2-10 s). */
const LIVE_MS = 30_000;

export default async function status(_args: unknown[], _o: Record<string, unknown>, global: GlobalOptions) {
  await useColor(global);
  await withBackend(global, async (backend) => {
    const now = Date.now();
    const [all, counts, jobs] = await Promise.all([backend.runners(), backend.counts(), backend.listJobs()]);
    const runners = all.filter((r) => r.stoppedAt === null && isLive(r, now)).sort((a, b) => b.startedAt - a.startedAt);
    const byState = Object.fromEntries(STATES.map((s) => [s, counts.byState[s] ?? 0]));
    const daemons = runners.map((r) => ({
      id: r.id,
      kind: r.kind,
      host: r.host,
      pid: r.pid,
      version: r.version,
      since: iso(r.startedAt),
      last_heartbeat: iso(r.heartbeatAt),
    }));
    if (global.json) {
      return printJson({
        store: backend.location,
        daemons,
        jobs: { total: jobs.length, paused: jobs.filter((j) => j.paused).length },
        occurrences: byState,
      });
    }
    print(`store  ${escapeLine(backend.location)}`);
    print(`jobs   ${jobs.length} (${jobs.filter((j) => j.paused).length} paused)\n`);
    if (daemons.length === 0) print('no live daemon: nothing fires; start one with `tock daemon`');
    else
      print(
        table(
          ['KIND', 'HOST', 'PID', 'SINCE', 'HEARTBEAT'],
          runners.map((r) => [escapeLine(r.kind), escapeLine(r.host), String(r.pid), when(r.startedAt), `${span(now - r.heartbeatAt)} ago`]),
        ),
      );
    print('');
    print(table(['STATE', 'OCCURRENCES'], STATES.map((s) => [stateColor(s), String(byState[s])])));
  });
}

/** Beat recently, and not proven dead (a runner in another PID namespace or host cannot be looked up). */
function isLive(r: Runner, now: number): boolean {
  return now - r.heartbeatAt <= LIVE_MS && judge({ pid: r.pid, boot_id: r.bootId, pid_ns: r.pidNs, start_ticks: r.startTicks }) !== 'dead';
}
