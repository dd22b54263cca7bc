// The precision baseline, run as its own process beside the daemon: a bare Node timer loop
// aimed at the same instants as the benchmark's jobs (first + i * step, i < count), which
// wakes with setTimeout for each and notes how late it woke. Prints the lateness of every
// instant (ms, JSON) on stdout when done.
// Usage: node timer-loop.js <first-ms> <step-ms> <count>

const [first, step, count] = process.argv.slice(2).map(Number);
const origin = performance.timeOrigin;
const late: number[] = [];
let i = 0;

function arm(): void {
  if (i >= count) {
    process.stdout.write(JSON.stringify(late));
    return;
  }
  setTimeout(wake, Math.max(0, first + i * step - (origin + performance.now())));
}

function wake(): void {
  const now = origin + performance.now();
  // Every instant already due counts as woken now, as a daemon's loop would see it.
  for (; i < count && first + i * step <= now; i++) late.push(now - (first + i * step));
  arm();
}

arm();
