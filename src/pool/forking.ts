/**
 * When the pool forks workers. Further workers start only when the work waiting
 * for them, at the measured pace, saves more than a worker's start-up, so a
 * hundred-file copy forks no process, and a slow mount as many as pay, as soon
 * as the first jobs are timed.
 */
import type { Pace } from './pace.js';

export interface ForkFacts {
  /** Forked workers alive. */
  workers: number;
  /** The most there may be (-j). */
  most: number;
  /** The parent runs batches itself while no forked worker is ready. */
  parentRuns: boolean;
  /** Every job is submitted (jobs handed back may follow). */
  listed: boolean;
  submittedJobs: number;
}

/** The queue, read only as far as the decision needs (holdsLargeFile walks it). */
export interface Queued {
  readonly jobs: number;
  /** A large file's batch, which only a forked worker runs. */
  readonly holdsLargeFile: boolean;
}

export function workersToFork(facts: ForkFacts, queued: Queued, pace: Pace): number {
  const useful = Math.min(facts.most, pace.usefulWorkers());
  let workers = facts.workers;
  while (workers < facts.most && (needsAProcess(workers, facts, queued, pace) || (workers < useful && pace.worthAnotherWorker(queued.jobs, workers)))) workers++;
  return workers - facts.workers;
}

/**
 * No forked worker, and work the parent should not run itself: a large file's,
 * any without the parent, or, while the tree is being listed, a copy that has
 * already shown more than a moment's work (the parent's batches keep its queue
 * short, so the queue alone would never ask for one).
 */
function needsAProcess(workers: number, facts: ForkFacts, queued: Queued, pace: Pace): boolean {
  if (workers > 0) return false;
  if (!facts.parentRuns || queued.holdsLargeFile) return true;
  return !facts.listed && pace.worthAFirstWorker(facts.submittedJobs);
}
