// Test-only fault injection, used by the fault-injection suite (test/faults/) to crash a
// daemon in the narrow windows a kill from outside rarely lands in. Inert unless
// TOCK_FAULT is set, e.g. TOCK_FAULT="after-claim@7": the 7th time this process reaches
// that point it writes one stderr line saying so and SIGKILLs itself.

export type FaultPoint = 'after-claim' | 'before-record' | 'after-record';

const hits = new Map<string, number>();

export function faultPoint(point: FaultPoint): void {
  const spec = process.env.TOCK_FAULT;
  if (!spec) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (!spec.split(',').some((p) => p.trim() === `${point}@${n}`)) return;
  process.stderr.write(`tock-fault: ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}
