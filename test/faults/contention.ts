// Contention: 2, 4 and 8 daemons on one store while CLI commands (add, apply, pause,
// resume, history, list, status, remove) run in loops beside them. Every occurrence of the
// measured jobs must be executed exactly once, no "database is locked" (or any other
// failure) may reach a user, and no daemon may exit.

import fs from 'node:fs';
import {
  Sandbox,
  countBy,
  describeCli,
  iso,
  records,
  row,
  seconds,
  sleep,
  waitFor,
  type CliResult,
  type Ctx,
  type Row,
} from './lib.js';

const S = 'contention';

export async function contention(ctx: Ctx): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of [2, 4, 8]) rows.push(await withDaemons(ctx, n));
  return rows;
}

async function withDaemons(ctx: Ctx, daemons: number): Promise<Row> {
  const sb = new Sandbox(`${S}-${daemons}`);
  let ok = false;
  try {
    const windowMs = ctx.short ? 10_000 : 60_000;
    const log = sb.path('executions.log');
    const churnLog = sb.path('churn.log');
    const rec = (f: string) => `echo "$TOCK_IDEMPOTENCY_KEY $TOCK_ATTEMPT" >> ${f}`;
    // The first instant must come after the jobs exist (instants before a job was added are
    // not owed), so the lead grows with how slow the CLI is on this machine right now.
    const probeStart = Date.now();
    await sb.ok(['list']);
    const leadMs = Math.max(4_000, 10 * (Date.now() - probeStart));
    const t0 = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
    const tEnd = t0 + windowMs;
    const measured = ['at-most-once', 'at-least-once', 'exactly-once'].flatMap((d, i) => [
      { name: `m${i}-sec`, cron: '* * * * * *', delivery: d },
      { name: `m${i}-2s`, cron: '*/2 * * * * *', delivery: d },
    ]);
    // `--catchup all`: on a loaded machine (CI runs three scenario lanes at once) the daemons'
    // start can take longer than the lead, and the first instants are
    // then missed while no daemon ran, which each job's default catchup rightly skips. Every
    // instant must still run exactly once, late or not; how late the daemons were is shown.
    await Promise.all(
      measured.map((m) =>
        sb.ok(['add', m.name, '--cron', m.cron, '--start', iso(t0), '--end', iso(tEnd), '--shell', rec(log), '--delivery', m.delivery, '--overlap', 'allow', '--catchup', 'all']),
      ),
    );
    const addsLateBy = Date.now() - t0;
    const procs = Array.from({ length: daemons }, () => sb.daemon());
    await Promise.all(procs.map((p) => p.ready(60_000)));
    const lateBy = Date.now() - t0;
    ctx.note(`contention: ${daemons} daemons, ${measured.length} measured jobs for ${windowMs / 1000}s, CLI loops beside them`);

    const cli: CliResult[] = [];
    const stopAt = tEnd + 1_000;
    const loops = [cliLoop(sb, 'a', churnLog, stopAt, cli), cliLoop(sb, 'b', churnLog, stopAt, cli)];
    await Promise.all(loops);
    const expected = measured.reduce((sum, m) => sum + seconds(t0, tEnd, m.cron.startsWith('*/2') ? 2000 : 1000).length, 0);
    await waitFor(() => records(log).length >= expected, 30_000, 250);
    await sleep(1_000);
    const deadDuring = procs.filter((p) => !p.alive);
    const history = await sb.history();
    const exits = await Promise.all(procs.map((p) => p.stop()));

    // Measured jobs: each instant executed exactly once and recorded as succeeded.
    const execs = countBy(records(log), (l) => l[0]!);
    const names = new Set(measured.map((m) => m.name));
    const byKey = new Map(history.filter((o) => names.has(o.job)).map((o) => [o.idempotency_key, o]));
    const keys = measured.flatMap((m) => seconds(t0, tEnd, m.cron.startsWith('*/2') ? 2000 : 1000).map((t) => `${m.name}@${iso(t)}`));
    const twice = keys.filter((k) => (execs.get(k) ?? 0) > 1).length;
    const never = keys.filter((k) => !execs.get(k) || byKey.get(k)?.state !== 'succeeded');
    // Churn jobs (paused, resumed, edited, removed all along): never twice.
    const churnTwice = [...countBy(records(churnLog), (l) => l[0]!).values()].filter((c) => c > 1).length;
    const badCli = cli.filter((r) => r.status !== 0 || r.stderr.trim() !== '');
    const locked = [...cli.map((r) => r.stderr), ...procs.map((p) => p.output)].join('\n').match(/database is locked|SQLITE_BUSY|is locked by another/g)?.length ?? 0;
    const errors = procs.flatMap((p) => p.lines('error'));
    const winners = countBy(history.filter((o) => names.has(o.job)), (o) => o.attempts[0]?.runner?.split(':')[1] ?? '?');
    const runners = new Set(history.flatMap((o) => o.attempts.map((a) => a.runner)).filter(Boolean));
    const perDaemon = `occurrences per daemon ${[...winners.values()].sort((a, b) => b - a).join('/')}`;

    ok = twice === 0 && never.length === 0 && churnTwice === 0 && badCli.length === 0 && locked === 0 && deadDuring.length === 0 && errors.length === 0 && exits.every((c) => c === 0);
    const found = [
      `${keys.length} occurrences: ${keys.length - twice - never.length} exactly once, ${twice} twice, ${never.length} never`,
      `churn jobs: ${churnTwice} executed twice`,
      `CLI: ${cli.length - badCli.length}/${cli.length} ok${badCli.length ? ` (e.g. ${describeCli(badCli[0]!)})` : ''}`,
      `"locked" seen by a user: ${locked}`,
      `daemon error lines: ${errors.length}${errors.length ? ` (e.g. ${errors[0]!.slice(25, 160)})` : ''}`,
      `daemons exited early: ${deadDuring.length}; SIGTERM exits ${[...new Set(exits)].join(',')}`,
      `${runners.size} runners executed work; ${perDaemon}`,
      ...(addsLateBy > 0 ? [`jobs added ${(addsLateBy / 1000).toFixed(1)}s after their first instant (lead ${leadMs} ms too short)`] : []),
      ...(lateBy > 0 ? [`daemons up ${(lateBy / 1000).toFixed(1)}s after the first instant (slow machine: caught up)`] : []),
    ];
    const tried = `${daemons} daemons x ${windowMs / 1000}s, 6 jobs (1/s and 1/2s, 3 semantics), 2 CLI loops (add, apply, pause, resume, history, list, status, remove)`;
    return row(S, `${daemons} daemons`, tried, found.join('; '), ok);
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

/** One user hammering the CLI until stopAt; every result is kept for the verdict. */
async function cliLoop(sb: Sandbox, id: string, churnLog: string, stopAt: number, out: CliResult[]): Promise<void> {
  const shell = `echo "$TOCK_IDEMPOTENCY_KEY $TOCK_ATTEMPT" >> ${churnLog}`;
  const file = sb.path(`jobs-${id}.yaml`);
  for (let i = 0; Date.now() < stopAt; i++) {
    const name = `churn-${id}-${i}`;
    fs.writeFileSync(
      file,
      `jobs:\n  - name: file-${id}\n    every: 1s\n    description: revision ${i}\n    shell: '${shell.replace(/'/g, "''")}'\n` +
        `  - name: file-${id}-2\n    cron: "*/3 * * * * *"\n    timeout: ${1 + (i % 5)}m\n    shell: '${shell.replace(/'/g, "''")}'\n`,
    );
    const steps: string[][] = [
      ['add', name, '--every', '1s', '--shell', shell],
      ['apply', file],
      ['pause', name],
      ['history', '--limit', '20'],
      ['resume', name],
      ['list', '--json'],
      ['history', `file-${id}`, '--json', '--limit', '50'],
      ['status'],
      ['pause', `file-${id}`],
      ['resume', `file-${id}`],
    ];
    if (i >= 2) steps.push(['remove', `churn-${id}-${i - 2}`]);
    for (const args of steps) {
      out.push(await sb.tock(args, { timeoutMs: 60_000 }));
      if (Date.now() >= stopAt) return;
    }
  }
}
