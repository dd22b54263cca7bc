// The read-only JSON API under /api/v1/: the documents of the CLI's --json, made by the same
// code (src/cli/documents.ts, src/cli/stats-view.ts). Nothing here writes.

import { notFound, usageError } from '../errors.js';
import { quote } from '../escape.js';
import { STATES, type Backend, type OccurrenceState } from '../store/backend.js';
import { historyDocument, jobDocument, keyDocument, listDocument, listedJobs, occurrenceDocument, parseSince } from '../cli/documents.js';
import { intFlag } from '../cli/io.js';
import { statsDocument } from '../cli/stats-view.js';

/** What `tock list` shows of each job's recent results. */
const RECENT = 10;

/** The document for `path` (after /api/v1/); a TockError for a bad query (400) or a missing thing (404). */
export async function apiDocument(backend: Backend, path: string, query: URLSearchParams, now: number): Promise<unknown> {
  const [head, ...rest] = path.split('/');
  const tail = rest.length ? decode(rest.join('/')) : undefined;
  if (head === 'occurrences' && tail === undefined) return historyDocument(await backend.history(historyFilter(query, now)));
  if (head === 'stats' && tail === undefined) {
    const q = params(query, ['job', 'since']);
    return statsDocument(backend, q.job, q.since === undefined ? undefined : parseSince(q.since, now, 'since'));
  }
  // The other paths take no parameters.
  params(query, []);
  if (head === 'jobs' && tail === undefined) return listDocument(await listedJobs(backend, now, RECENT));
  if (head === 'jobs' && tail) return found(await jobDocument(backend, tail, now), `no job named ${quote(tail)}`);
  if (head === 'occurrences' && tail) {
    const id = intFlag(tail, 'occurrence id', 1, Number.MAX_SAFE_INTEGER, 0);
    return found(await occurrenceDocument(backend, id), `no occurrence #${id}`);
  }
  if (head === 'keys' && tail) return keyDocument(backend, tail);
  throw notFound(`no such path: /api/v1/${path}`);
}

function historyFilter(query: URLSearchParams, now: number) {
  const q = params(query, ['job', 'state', 'since', 'limit']);
  if (q.state !== undefined && !(STATES as readonly string[]).includes(q.state)) {
    throw usageError(`state ${quote(q.state)} is not one of ${STATES.join(', ')}`);
  }
  return {
    job: q.job,
    state: q.state as OccurrenceState | undefined,
    sinceMs: q.since === undefined ? undefined : parseSince(q.since, now, 'since'),
    limit: intFlag(q.limit, 'limit', 1, 1_000_000, 20),
  };
}

/** The query's parameters, each at most once and none but `allowed`. */
function params(query: URLSearchParams, allowed: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of query) {
    if (!allowed.includes(k)) throw usageError(`unknown query parameter ${quote(k)}${allowed.length ? `: use ${allowed.join(', ')}` : ''}`);
    if (k in out) throw usageError(`query parameter ${quote(k)} given twice`);
    if (v === '') throw usageError(`query parameter ${quote(k)} is empty`);
    out[k] = v;
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usageError(`bad percent-encoding in ${quote(text)}`);
  }
}

function found<T>(doc: T | undefined, what: string): T {
  if (doc === undefined) throw notFound(what);
  return doc;
}
