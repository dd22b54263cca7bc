// A figure of the results table: what was measured, what it is held against, and the target.

export interface Figure {
  section: string;
  name: string;
  value: string;
  /** The limit or the baseline measured in the same run, with what it is. */
  baseline: string;
  /** Ratio or difference to the baseline. */
  compare: string;
  target: string;
  /** undefined: no target, for information. */
  met?: boolean;
  /** When missed: by how much. */
  miss?: string;
}

export interface SectionResult {
  figures: Figure[];
  /** Extra lines for RESULTS.md: breakdowns, counts, profiles. */
  notes: string[];
}
