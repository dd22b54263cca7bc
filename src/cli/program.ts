// The command line: every command, flag and help text. Actions load their module only
// when run, so `tock list` does not pay for the daemon's code.

import { Command, Option } from 'commander';
import { VERSION } from '../types.js';

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  color?: boolean;
}

type Action = (args: unknown[], opts: Record<string, unknown>, global: GlobalOptions) => Promise<number | void>;

/**
 * Wraps a lazily imported action; commander passes (...args, options, command). In the
 * bundle (dist/tock.cjs) the import is a module initialised on first use: `tock list`
 * does not run the daemon's module code.
 */
function lazy(load: () => Promise<{ default: Action }>) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const opts = params[params.length - 2] as Record<string, unknown>;
    const args = params.slice(0, -2);
    const action = (await load()).default;
    const code = await action(args, opts, command.optsWithGlobals() as GlobalOptions);
    if (typeof code === 'number') process.exitCode = code;
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function scheduleFlags(cmd: Command): Command {
  return cmd
    .option('--cron <expr>', 'cron expression: 5 fields, 6 with seconds first, or @daily/@hourly/...')
    .option('--every <duration>', 'fixed interval of at least 1s, e.g. 5m, 1h30m, PT15M')
    .option('--at <instant>', 'one instant, e.g. 2026-12-01T02:30 (local to --tz unless it has an offset)')
    .option('--tz <zone>', 'IANA time zone (default UTC)')
    .option('--start <instant>', 'nothing fires before this instant')
    .option('--end <instant>', 'nothing fires after this instant')
    .option('--jitter <duration>', 'random but deterministic delay in [0, jitter) added to each firing');
}

function targetFlags(cmd: Command): Command {
  return cmd
    .option('--shell <command>', 'run this command line with /bin/sh -c')
    .option('--cwd <dir>', 'working directory of the shell command')
    .option('--env <KEY=VALUE>', 'environment variable for the shell command (repeatable)', collect)
    .option('--inherit-env <NAMES>', "pass only these of the daemon's variables (comma-separated; '' for none)")
    .option('--http <url>', 'call this http(s) URL')
    .option('--method <method>', 'HTTP method (default GET)')
    .option('--header <"Name: value">', 'HTTP header (repeatable)', collect)
    .option('--body <data>', 'HTTP request body')
    .option('--expect <statuses>', 'HTTP statuses that count as success, comma-separated (default any 2xx)');
}

function policyFlags(cmd: Command): Command {
  return cmd
    .option('--delivery <semantics>', 'at-most-once | at-least-once | exactly-once (default at-least-once)')
    .option('--retries <n>', 'retries after a failed attempt (default 3; 0 for at-most-once)')
    .option('--backoff <initial[:max]>', 'first retry delay and its cap, e.g. 1s:5m (default 1s:5m, doubling, full jitter)')
    .option('--timeout <duration>', 'fail an attempt that runs longer (default 1h)')
    .option('--overlap <policy>', 'when the previous run is still going: skip | allow | queue | replace (default skip)')
    .option('--catchup <policy>', 'for firings missed while no daemon ran: skip | latest | all')
    .option('--catchup-limit <n>', 'with --catchup all, at most this many (default 100)')
    .option('--catchup-window <duration>', 'never execute a missed firing older than this')
    .option('--output-limit <bytes>', 'bytes of output kept per attempt, the tail (default 65536)')
    .option('--description <text>', 'what the job is for')
    .option('--paused', 'create the job paused');
}

export function buildProgram(): Command {
  const program = new Command('tock')
    .description('A crontab replacement that records every firing and never runs one twice by accident.')
    .version(VERSION, '-V, --version')
    .option('--db <path>', 'the SQLite store (env TOCK_DB; default $XDG_STATE_HOME/tock/tock.db)')
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    // Set before the commands are added, so each inherits them: errors are thrown to
    // main.ts, which prints one `tock:` line and exits 2.
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  policyFlags(targetFlags(scheduleFlags(program.command('add <name>'))))
    .description('create a job; prints it with its next 3 fire times')
    .action(lazy(() => import('./add.js')));

  program
    .command('apply <file>')
    .description('create or update jobs from a YAML file; prints what changed')
    .option('--prune', 'also remove the jobs that are not in the file')
    .option('--dry-run', 'print what would change, change nothing')
    .action(lazy(() => import('./apply.js')));

  program
    .command('list')
    .description('jobs with their next run, time left, last result and recent results')
    .action(lazy(() => import('./list.js')));

  program
    .command('show <name>')
    .description('one job in full, with its next 5 fire times')
    .action(lazy(() => import('./show.js')));

  program
    .command('next <job-or-cron>')
    .description('preview fire times of a job or a cron expression')
    .option('-n <count>', 'how many (default 5)')
    .option('--tz <zone>', 'time zone for a cron expression (default UTC)')
    .option('--from <instant>', 'start from this instant instead of now')
    .action(lazy(() => import('./next.js')));

  for (const [name, description] of [
    ['remove', 'delete a job (its history is kept)'],
    ['pause', 'stop firing a job until it is resumed'],
    ['resume', 'fire a paused job again, from now on (the paused period is not replayed)'],
  ] as const) {
    program
      .command(`${name} <name>`)
      .description(description)
      .action(lazy(() => import('./manage.js').then((m) => ({ default: m[name] }))));
  }

  program
    .command('run <name>')
    .description('execute a job now, in this process, with its delivery semantics; exit 0 on success, 1 on failure')
    .option('--idempotency-key <key>', 'a key already used returns the recorded result without executing; no "@", which marks the keys tock makes')
    .action(lazy(() => import('./run.js')));

  program
    .command('daemon')
    .description('fire jobs until SIGINT or SIGTERM')
    .option('--jobs <file>', 'apply this jobs file at start and again on SIGHUP')
    .option('--concurrency <n>', 'targets running at once, at most (default 16)')
    .option('--grace <duration>', 'on SIGTERM, how long running targets may finish (default 30s)')
    .option('--keep-days <n>', 'history retention in days (default 90)')
    .option('--keep-runs <n>', 'history retention in occurrences per job (default 1000)')
    .option('--listen <addr:port>', 'serve /metrics, /healthz and /api/v1/ here (localhost:9464; other addresses written out as IPs)')
    .addOption(new Option('--lease <duration>', 'lease of a running occurrence, renewed by heartbeat').default('30s').hideHelp())
    .addOption(new Option('--first-prune <duration>', 'when the first retention pass runs after start-up').hideHelp())
    .action(lazy(() => import('./daemon.js')));

  program
    .command('history [name]')
    .description('occurrences, newest first, with their attempts')
    .option('--status <state>', 'only this state: pending running succeeded failed abandoned skipped missed')
    .option('--limit <n>', 'at most this many (default 20)')
    .option('--since <instant>', 'only occurrences scheduled at or after this instant (or a duration ago, e.g. 2h)')
    .action(lazy(() => import('./history.js')));

  program
    .command('notifications [name]')
    .description('the notification outbox, newest first: what was sent, when, to which channel, and delivery errors')
    .option('--status <state>', 'only this state: pending sent failed')
    .option('--limit <n>', 'at most this many (default 20)')
    .action(lazy(() => import('./notifications.js')));

  program
    .command('logs <occurrence-id>')
    .description('captured output of every attempt of an occurrence')
    .action(lazy(() => import('./logs.js')));

  program
    .command('retry <occurrence-id>')
    .description('re-execute a failed or abandoned occurrence, with the same idempotency key')
    .option('--force', 'also for an at-most-once occurrence (it may then run twice)')
    .action(lazy(() => import('./retry.js')));

  program
    .command('stats [name]')
    .description('per job: runs by state, success rate, duration and lateness percentiles, retries, last success')
    .option('--since <instant>', 'only occurrences scheduled at or after this instant (or a duration ago, e.g. 7d)')
    .action(lazy(() => import('./stats.js')));

  program
    .command('status')
    .description('live daemons and occurrence counts by state')
    .action(lazy(() => import('./status.js')));

  return program;
}
