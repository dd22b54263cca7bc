// The fault-injection suite (issue #4): attacks the real CLI and daemon on real stores and
// prints a table of what it tried and what it found. `npm run faults` runs the full version
// (10-20 minutes); `node dist/test/faults/run.js --short` the one CI runs (under 3 minutes).
// Options: --short, --seed N (replay a run), --only a,b (scenarios by name), --keep (keep
// the temp dirs), --sequential (the short run one scenario at a time), --out FILE (also write
// the table there, as Markdown). Exits 1 if any row FAILs; a SKIP says why and never counts
// as a pass.

import fs from 'node:fs';
import { cleanupAll, prepareTools, Rng, table, type Ctx, type Row, type Scenario } from './lib.js';
import { crash } from './crash.js';
import { durability } from './durability.js';
import { contention } from './contention.js';
import { clock } from './clock.js';
import { store } from './store.js';
import { fuzz } from './fuzz.js';
import { hostile } from './hostile.js';

const SCENARIOS: Record<string, Scenario> = { crash, durability, contention, clock, store, fuzz, hostile };

/**
 * The full run goes one scenario at a time. The short one runs three lanes at once to stay
 * within CI's few minutes: timing-tolerant scenarios beside each other, the CPU-heavy fuzzer
 * beside the ones that mostly wait.
 */
const LANES = [['contention', 'crash'], ['clock', 'store'], ['hostile', 'fuzz', 'durability']];
const ORDER = LANES.flat().sort((a, b) => Object.keys(SCENARIOS).indexOf(a) - Object.keys(SCENARIOS).indexOf(b));

function hash(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function parseArgs(argv: string[]) {
  const has = (f: string) => argv.includes(f);
  const value = (f: string) => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    short: has('--short'),
    keep: has('--keep'),
    seed: value('--seed') !== undefined ? Number(value('--seed')) : Math.floor(Math.random() * 2 ** 31),
    only: value('--only')?.split(','),
    sequential: has('--sequential'),
    out: value('--out'),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  const ctx: Ctx = {
    short: args.short,
    keep: args.keep,
    seed: args.seed,
    rng: new Rng(args.seed),
    note: (text) => process.stderr.write(`[${elapsed()}] ${text}\n`),
  };
  ctx.note(`tock fault suite, ${args.short ? 'short' : 'full'} run, seed ${args.seed} (replay with --seed ${args.seed})`);
  const results = new Map<string, Row[]>();
  const runOne = async (name: string) => {
    ctx.note(`${name}: starting`);
    const t = Date.now();
    let got: Row[];
    try {
      // Each scenario draws from its own seeded stream, so lanes running side by side replay alike.
      got = await SCENARIOS[name]!({ ...ctx, rng: new Rng(args.seed ^ hash(name)) });
    } catch (err) {
      got = [{ scenario: name, case: '-', tried: '-', found: `harness error: ${(err as Error).stack ?? err}`, verdict: 'FAIL' }];
    }
    results.set(name, got);
    ctx.note(`${name}: done in ${((Date.now() - t) / 1000).toFixed(0)}s\n${table(got)}`);
  };
  const wanted = (name: string) => !args.only || args.only.includes(name);
  const lanes = args.short && !args.sequential ? LANES : [ORDER];
  prepareTools(ORDER.filter(wanted), ctx.note);
  await Promise.all(lanes.map(async (lane) => {
    for (const name of lane) if (wanted(name)) await runOne(name);
  }));
  const rows = ORDER.flatMap((name) => results.get(name) ?? []);
  const fails = rows.filter((r) => r.verdict === 'FAIL').length;
  const skips = rows.filter((r) => r.verdict === 'SKIP').length;
  process.stdout.write(`\n${table(rows)}\n\n`);
  if (args.out) {
    const how = `node dist/test/faults/run.js${args.short ? ' --short' : ''} --seed ${args.seed}`;
    fs.writeFileSync(args.out, `${table(rows)}\n\n${rows.length - fails - skips} passed, ${fails} failed, ${skips} skipped in ${elapsed()}; reproduce with \`${how}\`\n`);
  }
  process.stdout.write(
    `${rows.length - fails - skips} passed, ${fails} failed, ${skips} skipped in ${elapsed()} ` +
      `(${args.short ? '--short, ' : ''}seed ${args.seed})\n`,
  );
  return fails > 0 ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

main().then(
  (code) => {
    cleanupAll();
    process.exit(code); // a scenario's stray timer must not hold the result back
  },
  (err) => {
    cleanupAll();
    process.stderr.write(`fault suite crashed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 2;
  },
);
