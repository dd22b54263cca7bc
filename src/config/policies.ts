// What a job does around its target: delivery and retries (whose default depends on the
// delivery), backoff, timeout, overlap, catch-up and the output kept, each with its
// default from DEFAULTS when left out.

import { parsePositiveDuration } from '../schedule/index.js';
import {
  CATCHUPS,
  DEFAULTS,
  DELIVERIES,
  OVERLAPS,
  type Backoff,
  type Catchup,
  type Delivery,
  type JobSpec,
  type Overlap,
} from '../types.js';
import { isMapping, show, type Raw, type Reader } from './reader.js';

/** Delivery and retries; `raw` is the job as written, without its defaults. */
export function readDelivery(r: Reader, raw: Raw): Pick<JobSpec, 'delivery' | 'retries'> {
  const delivery = r.choice<Delivery>('delivery', DELIVERIES) ?? DEFAULTS.delivery;
  const retries =
    r.integer('retries', 0, 1000) ?? (delivery === 'at-most-once' ? DEFAULTS.retriesAtMostOnce : DEFAULTS.retries);
  if (delivery === 'at-most-once' && retries > 0 && r.has('retries') && 'retries' in raw) {
    r.fail('retries', 'an at-most-once job never retries; drop retries or choose at-least-once');
  }
  return { delivery, retries };
}

type Policies = Pick<JobSpec, 'backoff' | 'timeoutMs' | 'overlap' | 'catchup' | 'catchupLimit' | 'catchupWindowMs' | 'outputLimit'>;

/** The other policies, in the order their problems are reported; a field that failed is undefined. */
export function readPolicies(r: Reader, delivery: Delivery): Partial<Policies> {
  return {
    backoff: readBackoff(r),
    timeoutMs: r.has('timeout') ? r.parse('timeout', parsePositiveDuration) : DEFAULTS.timeoutMs,
    overlap: r.choice<Overlap>('overlap', OVERLAPS) ?? DEFAULTS.overlap,
    catchup: r.choice<Catchup>('catchup', CATCHUPS) ?? (delivery === 'at-most-once' ? 'skip' : 'latest'),
    catchupLimit: r.integer('catchup_limit', 1, 100_000) ?? DEFAULTS.catchupLimit,
    catchupWindowMs: r.has('catchup_window') ? r.parse('catchup_window', parsePositiveDuration) : undefined,
    outputLimit: r.integer('output_limit', 0, 16 * 1024 * 1024) ?? DEFAULTS.outputLimit,
  };
}

/** `1s`, `1s:5m`, or a mapping {initial, max, multiplier}. */
function readBackoff(r: Reader): Backoff | undefined {
  const v = r.value('backoff');
  if (v === undefined || v === null) return { ...DEFAULTS.backoff };
  if (isMapping(v)) return readBackoffMapping(r, v);
  const parts = r.parse('backoff', (s) => s.split(':'));
  if (!parts) return undefined;
  if (parts.length > 2) return r.fail('backoff', `${show(v)}: expected INITIAL or INITIAL:MAX, e.g. 1s:5m`);
  const initialMs = r.parseValue('backoff', parts[0], parsePositiveDuration);
  const maxMs =
    parts.length === 2
      ? r.parseValue('backoff', parts[1], parsePositiveDuration)
      : Math.max(DEFAULTS.backoff.maxMs, initialMs ?? 0);
  return checkBackoff(r, initialMs, maxMs, DEFAULTS.backoff.multiplier);
}

function readBackoffMapping(r: Reader, v: Raw): Backoff | undefined {
  const sub = r.child('backoff', v);
  const initialMs = sub.has('initial') ? sub.parse('initial', parsePositiveDuration) : DEFAULTS.backoff.initialMs;
  const maxMs = sub.has('max') ? sub.parse('max', parsePositiveDuration) : Math.max(DEFAULTS.backoff.maxMs, initialMs ?? 0);
  const multiplier = sub.value('multiplier') ?? DEFAULTS.backoff.multiplier;
  if (typeof multiplier !== 'number' || !(multiplier >= 1 && multiplier <= 100)) {
    return sub.fail('multiplier', `expected a number from 1 to 100, got ${show(multiplier)}`);
  }
  return checkBackoff(r, initialMs, maxMs, multiplier);
}

function checkBackoff(r: Reader, initialMs?: number, maxMs?: number, multiplier?: number): Backoff | undefined {
  if (initialMs === undefined || maxMs === undefined || multiplier === undefined) return undefined;
  if (maxMs < initialMs) return r.fail('backoff', 'the maximum backoff is smaller than the initial one');
  return { initialMs, maxMs, multiplier };
}
