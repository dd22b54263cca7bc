// Summaries of measured distributions: nearest-rank percentiles, so a p99 is a value that
// was actually observed, and small helpers to format figures for the table.

export interface Summary {
  n: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank quantile of an ascending array (q in [0, 1]). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export function median(values: number[]): number {
  return summarize(values).median;
}

/**
 * Sustained rate of events: the middle 80 % of the completions over the time they took,
 * so the ramp-up of the first claims and the tail of the last stragglers do not count.
 */
export function sustainedRate(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  if (t.length < 10) return t.length > 1 ? (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000) : NaN;
  const lo = Math.floor(t.length * 0.1);
  const hi = Math.ceil(t.length * 0.9) - 1;
  const span = (t[hi] - t[lo]) / 1000;
  return span > 0 ? (hi - lo) / span : Infinity;
}

export function ms(v: number, digits = 1): string {
  return Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a';
}

export function perSecond(v: number): string {
  return Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')}/s` : 'n/a';
}

export function ratio(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a';
}

export function count(v: number): string {
  return v.toLocaleString('en-US');
}
