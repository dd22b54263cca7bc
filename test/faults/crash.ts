// Crashes: kill -9 of the daemon at random moments, over hundreds of occurrences of each
// delivery semantics, plus the test-only TOCK_FAULT hook that makes the daemon kill itself
// right after a claim (before the target starts) and right after a target ends (before its
// result is recorded). Every execution appends its idempotency key to a file; the file and
// `tock history` are then compared occurrence by occurrence.

import {
  DaemonProc,
  Sandbox,
  countBy,
  instantOfKey,
  iso,
  records,
  row,
  seconds,
  sleep,
  waitFor,
  type Ctx,
  type HistoryOcc,
  type Row,
} from './lib.js';

const S = 'crash';
const DELIVERIES = ['at-most-once', 'at-least-once', 'exactly-once'] as const;
type Delivery = (typeof DELIVERIES)[number];
/** How long each of a semantics' jobs' targets runs: instant, short, and long enough to be hit mid-run. */
const SLEEPS = ['0', '0.3', '0.8'];

interface Kills {
  idle: number;
  midTarget: number;
  afterClaim: number;
  beforeRecord: number;
  unexpected: string[];
}

export async function crash(ctx: Ctx): Promise<Row[]> {
  const sb = new Sandbox(S);
  let ok = false;
  try {
    const rows = await attack(ctx, sb);
    ok = rows.every((r) => r.verdict !== 'FAIL');
    return rows;
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

async function attack(ctx: Ctx, sb: Sandbox): Promise<Row[]> {
  const rng = ctx.rng.fork();
  const log = sb.path('executions.log');
  const windowMs = ctx.short ? 35_000 : 150_000;
  const t0 = Math.ceil((Date.now() + 5_000) / 1000) * 1000;
  const tEnd = t0 + windowMs;
  const jobs: { name: string; delivery: Delivery }[] = [];
  for (const delivery of DELIVERIES) {
    SLEEPS.forEach((s, i) => jobs.push({ name: `${delivery.replace(/-/g, '')}-${i}`, delivery }));
  }
  await Promise.all(
    jobs.map((j, i) => {
      const pause = SLEEPS[i % SLEEPS.length] === '0' ? '' : `sleep ${SLEEPS[i % SLEEPS.length]}; `;
      const rec = (tag: string) => `echo "${tag} $TOCK_IDEMPOTENCY_KEY $TOCK_OCCURRENCE_ID $TOCK_ATTEMPT" >> ${log}`;
      return sb.ok([
        'add', j.name, '--cron', '* * * * * *', '--start', iso(t0), '--end', iso(tEnd),
        '--shell', `${rec('S')}; ${pause}${rec('E')}`,
        '--delivery', j.delivery, '--overlap', 'allow', '--catchup', 'all', '--catchup-limit', '10000', '--timeout', '30s',
        ...(j.delivery === 'at-most-once' ? [] : ['--retries', '3', '--backoff', '100ms:1s']),
      ]);
    }),
  );
  ctx.note(`crash: ${jobs.length} jobs firing every second for ${windowMs / 1000}s; killing the daemon at random`);

  // Half the daemons also carry the test-only hook: die at the Nth claim just before its
  // target starts, or at the Nth result just before it is recorded.
  const fault = () => (rng.chance(0.5) ? { TOCK_FAULT: `${rng.pick(['after-claim', 'before-record'])}@${rng.int(1, 30)}` } : {});
  const kills: Kills = { idle: 0, midTarget: 0, afterClaim: 0, beforeRecord: 0, unexpected: [] };
  let d = sb.daemon(['--concurrency', '64'], fault());
  const settle = (dp: DaemonProc) => {
    if (dp.killedByUs) return;
    const fault = /tock-fault: (\S+)/.exec(dp.output)?.[1];
    if (fault === 'after-claim') kills.afterClaim++;
    else if (fault === 'before-record') kills.beforeRecord++;
    else kills.unexpected.push(`exit ${dp.exit?.code ?? dp.exit?.signal}: ${dp.lines().slice(-2).join(' / ')}`);
  };
  while (Date.now() < tEnd) {
    const lifetime = rng.int(800, 4_000);
    await Promise.race([sleep(lifetime), d.exited]);
    if (d.alive) {
      if (running(d) > 0) kills.midTarget++;
      else kills.idle++;
      await d.kill9();
    } else {
      settle(d);
    }
    await sleep(rng.chance(0.3) ? 0 : rng.int(50, 1_500));
    d = sb.daemon(['--concurrency', '64'], Date.now() < tEnd ? fault() : {});
  }
  // The last daemon may carry the fault hook; replace it with a clean one to finish the work.
  if (d.alive) await d.kill9();
  else settle(d);
  const final = sb.daemon(['--concurrency', '64']);
  const expected = jobs.length * seconds(t0, tEnd).length;
  const settled = await waitFor(async () => {
    const r = await sb.tock(['status', '--json']);
    if (r.status !== 0) return false;
    const c = JSON.parse(r.stdout).occurrences as Record<string, number>;
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    return c.pending + c.running === 0 && total >= expected;
  }, 90_000, 1_000);
  await sleep(1_500); // orphaned at-most-once targets finish their sleep
  const history = await sb.history();
  const abandonedListed = (await sb.history(['--status', 'abandoned'])).length;
  const stopCode = await final.stop();
  if (final.exit?.code !== 0 && !final.killedByUs) kills.unexpected.push(`final daemon exit ${stopCode}`);

  const totalKills = kills.idle + kills.midTarget + kills.afterClaim + kills.beforeRecord;
  const tried =
    `${jobs.length / 3} jobs x ${seconds(t0, tEnd).length} s; ${totalKills} kill -9 (${kills.idle} idle/before claim, ` +
    `${kills.midTarget} while targets ran, ${kills.afterClaim} after claim before target, ${kills.beforeRecord} after target before record)`;
  const rows = DELIVERIES.map((delivery) =>
    verdict(delivery, jobs.filter((j) => j.delivery === delivery).map((j) => j.name), t0, tEnd, history, records(log), abandonedListed, tried),
  );
  rows.push(
    row(S, 'daemons', `${totalKills + 1} daemon processes`, [
      settled ? 'every occurrence settled' : 'occurrences still pending/running after 90 s',
      kills.unexpected.length ? `unexpected exits: ${kills.unexpected.slice(0, 3).join('; ')}` : 'no unexpected exit',
      `final SIGTERM exit ${stopCode}`,
    ].join('; '), Boolean(settled) && kills.unexpected.length === 0 && stopCode === 0),
  );
  return rows;
}

/** Targets this daemon instance fired and has not logged an end for. */
function running(d: DaemonProc): number {
  const ids = (event: string) => new Set(d.lines(event).map((l) => /#(\d+)/.exec(l)?.[1]).filter(Boolean));
  const fired = ids('fired');
  for (const e of ['succeeded', 'failed', 'retrying', 'abandoned', 'released']) for (const id of ids(e)) fired.delete(id);
  return fired.size;
}

function verdict(
  delivery: Delivery,
  names: string[],
  t0: number,
  tEnd: number,
  history: HistoryOcc[],
  lines: string[][],
  abandonedListed: number,
  tried: string,
): Row {
  const mine = new Set(names);
  const occs = history.filter((o) => mine.has(o.job));
  const byKey = new Map(occs.map((o) => [o.idempotency_key, o]));
  const byId = new Map(occs.map((o) => [String(o.id), o]));
  const starts = lines.filter((l) => l[0] === 'S' && mine.has(l[1]!.slice(0, l[1]!.lastIndexOf('@'))));
  const ends = lines.filter((l) => l[0] === 'E' && mine.has(l[1]!.slice(0, l[1]!.lastIndexOf('@'))));
  const expectedKeys = names.flatMap((n) => seconds(t0, tEnd).map((t) => `${n}@${iso(t)}`));
  const startsPerKey = countBy(starts, (l) => l[1]!);
  const endsPerKey = countBy(ends, (l) => l[1]!);

  const duplicates = [...startsPerKey.values()].filter((n) => n > 1).length;
  const unaccounted = expectedKeys.filter((k) => !byKey.has(k));
  const lost = expectedKeys.filter((k) => byKey.get(k)?.state !== 'succeeded' || !endsPerKey.get(k));
  const sameAttemptTwice = [...countBy(starts, (l) => `${l[1]} ${l[3]}`).values()].filter((n) => n > 1).length;
  // Every execution of an occurrence carries that occurrence's one key, which names its instant.
  const keyMismatch = starts.filter((l) => {
    const o = byId.get(l[2]!);
    return !o || o.idempotency_key !== l[1] || instantOfKey(l[1]!) !== Date.parse(o.scheduled_at);
  }).length;
  // After a success nothing runs the occurrence again: no execution of a later attempt.
  const afterSuccess = starts.filter((l) => {
    const o = byKey.get(l[1]!);
    const won = o?.attempts.find((a) => a.outcome === 'succeeded');
    return o?.state === 'succeeded' && won && Number(l[3]) > won.n;
  }).length;
  const states = countBy(occs, (o) => o.state);
  const stateText = [...states].map(([s, n]) => `${n} ${s}`).join(', ');
  const abandoned = states.get('abandoned') ?? 0;
  const recovered = occs.filter((o) => o.attempts.some((a) => a.trigger === 'recovery')).length;
  const maxReruns = Math.max(0, ...occs.map((o) => o.attempts.filter((a) => a.trigger === 'recovery').length));

  const found = [
    `scheduled ${expectedKeys.length}`,
    `executions ${starts.length}`,
    `duplicates ${duplicates}`,
    `lost ${delivery === 'at-most-once' ? `${unaccounted.length} (no record)` : lost.length}`,
    `states: ${stateText}`,
  ];
  let ok = unaccounted.length === 0 && sameAttemptTwice === 0 && afterSuccess === 0 && keyMismatch === 0;
  if (delivery === 'at-most-once') {
    ok &&= duplicates === 0 && abandonedListed >= abandoned;
    found.push(`${abandoned} abandoned, all listed by history --status abandoned: ${abandonedListed >= abandoned ? 'yes' : `no (${abandonedListed})`}`);
  } else {
    ok &&= lost.length === 0;
    found.push(`${recovered} re-run after a crash (one up to ${maxReruns} times)`);
    if (delivery === 'exactly-once') found.push(`re-executions with a different key: ${keyMismatch}`);
  }
  if (sameAttemptTwice) found.push(`one attempt executed twice: ${sameAttemptTwice}`);
  if (afterSuccess) found.push(`executed again after success: ${afterSuccess}`);
  if (keyMismatch && delivery !== 'exactly-once') found.push(`executions whose key is not their occurrence's: ${keyMismatch}`);
  if (unaccounted.length) found.push(`no record at all for e.g. ${unaccounted.slice(0, 2).join(', ')}`);
  if (delivery !== 'at-most-once' && lost.length) {
    const o = byKey.get(lost[0]!);
    found.push(`e.g. ${lost[0]} is ${o?.state ?? 'missing'}${o?.reason ? ` (${o.reason})` : ''}`);
  }
  return row(S, delivery, tried, found.join('; '), ok);
}
