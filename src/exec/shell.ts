// The shell executor: runs a target's command with /bin/sh -c in its own process group,
// keeps the tail of stdout+stderr, and stops the whole group on timeout, abort, or when
// the main process exits leaving background processes behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { AttemptContext, AttemptResult, ShellTarget } from '../types.js';
import { tryExpand } from './expand.js';
import { argProblem } from '../target-rules.js';
import { formatDuration } from '../schedule/duration.js';
import { TailBuffer } from './output.js';
import { groupAlive, killGroup, trackGroup } from './process-group.js';
import { killOrphans, markEnv } from './orphans.js';
import { cancelled, failed, finish, oneLine, type Verdict } from './result.js';
import { deadline, within } from './timer.js';

/** How long the pipes may take to drain once the main process has exited. */
const DRAIN_MS = 100;
/** How long to wait for the pipes to close once the group is gone (or given up on). */
const CLOSE_MS = 500;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Run = { spawnError: Error } | { exit: Exit; stoppedFor?: 'timeout' | 'abort' };

/** `stdin`: text the command reads on its standard input (a notification's JSON); absent, stdin is /dev/null. */
export interface ShellOptions {
  stdin?: string;
}

export async function runShell(
  target: ShellTarget,
  ctx: AttemptContext,
  signal: AbortSignal,
  options: ShellOptions = {},
): Promise<AttemptResult> {
  const startedAt = Date.now();
  const output = new TailBuffer(ctx.outputLimit);
  if (signal.aborted) return finish(cancelled(signal), output, startedAt);
  const prepared = prepare(target, ctx);
  if ('error' in prepared) return finish(failed(prepared.error, false), output, startedAt);
  const cwdError = target.cwd === undefined ? undefined : await checkCwd(target.cwd);
  if (cwdError) return finish(failed(cwdError, false), output, startedAt);
  const run = await runProcess(prepared, target.cwd, options.stdin, ctx, signal, output);
  return finish(verdictOf(run, ctx, signal), output, startedAt);
}

/**
 * The command, untouched (/bin/sh expands its `${NAME}` from the environment), and the
 * child's environment with the job's `env:` values expanded; or why it can never start.
 */
function prepare(target: ShellTarget, ctx: AttemptContext): { command: string; env: NodeJS.ProcessEnv } | { error: string } {
  const commandProblem = argProblem(target.command);
  if (commandProblem) return { error: `the shell command ${commandProblem}` };
  const env = inherited(target.inheritEnv, ctx.env);
  for (const [name, raw] of Object.entries(target.env ?? {})) {
    const value = tryExpand(raw, ctx.env, `env ${name}`);
    if ('error' in value) return value;
    const entryProblem = argProblem(`${name}=${value.value}`);
    if (entryProblem) return { error: `env ${name}: the entry ${name}=... after \${...} expansion ${entryProblem}` };
    env[name] = value.value;
  }
  Object.assign(env, {
    TOCK_JOB: ctx.job,
    TOCK_SCHEDULED_AT: new Date(ctx.scheduledAt).toISOString(),
    TOCK_ATTEMPT: String(ctx.attempt),
    ...markEnv(ctx), // TOCK_STORE, TOCK_RUNNER, TOCK_OCCURRENCE_ID: what killOrphans looks for
    TOCK_IDEMPOTENCY_KEY: ctx.idempotencyKey,
  });
  return { command: target.command, env };
}

/** The part of the daemon's environment the job passes through: all of it, or the names listed. */
function inherited(names: string[] | undefined, from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (names === undefined) return { ...from };
  const env: NodeJS.ProcessEnv = {};
  for (const name of names) if (from[name] !== undefined) env[name] = from[name];
  return env;
}

async function checkCwd(cwd: string): Promise<string | undefined> {
  try {
    if (!(await stat(cwd)).isDirectory()) return `working directory ${cwd} is not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `working directory ${cwd} does not exist`;
    return `working directory ${cwd} cannot be used (${code ?? oneLine(String(err))})`;
  }
  return undefined;
}

async function runProcess(
  { command, env }: { command: string; env: NodeJS.ProcessEnv },
  cwd: string | undefined,
  stdin: string | undefined,
  ctx: AttemptContext,
  signal: AbortSignal,
  output: TailBuffer,
): Promise<Run> {
  let child: ChildProcess;
  const input = stdin === undefined ? 'ignore' : 'pipe';
  try {
    child = spawn('/bin/sh', ['-c', command], { cwd, env, detached: true, stdio: [input, 'pipe', 'pipe'] });
  } catch (err) {
    return { spawnError: err as Error };
  }
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  if (child.pid === undefined) return { spawnError: await spawnError };
  // A command that exits without reading its input closes the pipe: EPIPE is no failure of the command.
  child.stdin?.on('error', () => {});
  child.stdin?.end(stdin);
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => output.push(chunk));
    stream.on('error', () => {});
  }
  const untrack = trackGroup(child.pid);
  try {
    return await supervise(child, child.pid, ctx, signal);
  } finally {
    untrack();
  }
}

/** Waits for the main process, stopping the group on timeout or abort, then clears what is left of it. */
async function supervise(child: ChildProcess, pid: number, ctx: AttemptContext, signal: AbortSignal): Promise<Run> {
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const limit = deadline(ctx.timeoutMs, signal);
  const stopped = new Promise<'timeout' | 'abort'>((resolve) =>
    limit.signal.addEventListener('abort', () => resolve(limit.timedOut() ? 'timeout' : 'abort'), { once: true }),
  );
  const first = await Promise.race([exited, stopped]);
  limit.dispose();

  if (typeof first === 'string') {
    await killGroup(pid, ctx.killGraceMs);
    // A child that left the group (setsid, a double-forking daemon) still carries the
    // attempt's TOCK_* variables: a timed-out or stopped attempt leaves nothing running.
    killOrphans(ctx);
    const exit = await exitOf(child, exited);
    await closeOrDestroy(child, closed);
    return { exit, stoppedFor: first };
  }
  // The main process is done; background processes it started must not outlive the attempt.
  await within(closed, DRAIN_MS);
  if (groupAlive(pid)) await killGroup(pid, ctx.killGraceMs);
  await closeOrDestroy(child, closed);
  return { exit: first };
}

/** The main process leads the group, so it is gone after killGroup; the direct SIGKILL is a safety net. */
async function exitOf(child: ChildProcess, exited: Promise<Exit>): Promise<Exit> {
  if (!(await within(exited, CLOSE_MS))) child.kill('SIGKILL');
  return exited;
}

/** A process that left the group (setsid) may still hold the pipes; stop reading rather than wait for it. */
async function closeOrDestroy(child: ChildProcess, closed: Promise<void>): Promise<void> {
  if (await within(closed, CLOSE_MS)) return;
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function verdictOf(run: Run, ctx: AttemptContext, signal: AbortSignal): Verdict {
  if ('spawnError' in run) return spawnFailure(run.spawnError);
  const { exit, stoppedFor } = run;
  const facts: Partial<Verdict> = {};
  if (exit.code !== null) facts.exitCode = exit.code;
  if (exit.signal !== null) facts.signal = exit.signal;
  if (stoppedFor === 'timeout') {
    return { ...facts, outcome: 'timeout', retryable: true, error: `timed out after ${formatDuration(ctx.timeoutMs)}` };
  }
  if (stoppedFor === 'abort') return { ...facts, ...cancelled(signal) };
  if (exit.code === 0) return { ...facts, outcome: 'succeeded', retryable: false };
  const error = exit.code !== null ? `exit status ${exit.code}` : `killed by ${exit.signal}`;
  return { ...facts, outcome: 'failed', retryable: true, error };
}

/** E2BIG comes back on every attempt: the command and environment together exceed the system's limit. */
function spawnFailure(err: Error): Verdict {
  if ((err as NodeJS.ErrnoException).code === 'E2BIG') {
    return failed("cannot start /bin/sh: the command and its environment exceed the system's argument limit (E2BIG)", false);
  }
  return failed(`cannot start /bin/sh: ${oneLine(err.message)}`, true);
}
