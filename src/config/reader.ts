// Reading one mapping of a job definition field by field: typed accessors that record a
// problem with the field's path (`jobs[2].retries: ...`) and return undefined instead of
// stopping at the first, and the wording every such message shares.

import { echo, quote } from '../escape.js';

export type Raw = Record<string, unknown>;

/** Where a field came from, for messages: `jobs[2].cron` in a file, `--cron` on the command line. */
export type Locate = (field: string) => string;

/** Collects problems while one job is read. */
export class Reader {
  constructor(
    private readonly raw: Raw,
    readonly at: Locate,
    readonly problems: string[],
  ) {}

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  value(field: string): unknown {
    return this.raw[field];
  }

  fail(field: string, message: string): undefined {
    this.problems.push(`${this.at(field)}: ${message}`);
    return undefined;
  }

  /** Runs a parser that throws a message on bad input; records the message with the field's path. */
  parse<T>(field: string, fn: (v: string) => T): T | undefined {
    return this.parseValue(field, this.raw[field], fn);
  }

  parseValue<T>(field: string, v: unknown, fn: (v: string) => T): T | undefined {
    if (v instanceof Date) v = v.toISOString(); // YAML reads an unquoted timestamp as a Date
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(field, `expected text, got ${kind(v)}`);
    try {
      return fn(String(v).trim());
    } catch (err) {
      return this.fail(field, (err as Error).message);
    }
  }

  /** A reader for a nested mapping, whose paths continue this one's (`jobs[0].http.url`). */
  child(field: string, raw: Raw): Reader {
    return new Reader(raw, (f) => this.at(`${field}.${f}`), this.problems);
  }

  string(field: string): string | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') return this.fail(field, `expected text, got ${kind(v)}`);
    return v;
  }

  integer(field: string, min: number, max: number): number | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return this.fail(field, `expected a whole number, got ${show(v)}`);
    if (n < min || n > max) return this.fail(field, `${n} is out of range ${min}-${max}`);
    return n;
  }

  choice<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(field, `${show(v)} is not one of ${allowed.join(', ')}`);
  }

  boolean(field: string): boolean | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.fail(field, `expected true or false, got ${show(v)}`);
  }
}

/** What a value is, for `expected ..., got ...`. */
export function kind(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${show(v)}`;
}

/** A value echoed in a message: quoted, escaped and cut to a readable length. */
export function show(v: unknown): string {
  return typeof v === 'string' ? quote(v) : echo(String(JSON.stringify(v) ?? v));
}

export function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object without its undefined fields (what was not given, or failed, is left out). */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
