// What the daemon's roles tell an observer (a daemon started with --listen): attempts as
// they finish, claims lost to another daemon, and each turn of the loop. Without --listen
// there is no observer and the roles skip the calls: nothing is collected, nothing costs.
// No dependency here: the daemon imports this file, the metrics module implements it.

export interface Observer {
  /** A finished attempt of an occurrence scheduled at `scheduledAt` (origin tells whether lateness means anything). */
  attempt(a: { job: string; n: number; origin: string; scheduledAt: number; startedAt: number; finishedAt: number }): void;
  /** A firing another daemon had already claimed: a duplicate avoided. */
  claimLost(job: string): void;
  /** A turn of the loop that began at `began` ended, with the error that ended it early, if any. */
  turned(began: number, error?: unknown): void;
}
