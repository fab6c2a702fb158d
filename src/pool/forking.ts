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
  /** Since the first job was submitted (0 before). */
  waitingMs: number;
  /** Whether the machine's cores had idle time lately (idle-cores.ts); asked only before forking more workers than cores. */
  coresIdle: () => boolean;
}

/** The queue, read only as far as the decision needs (the holds* walk it). */
export interface Queued {
  readonly jobs: number;
  /** A large file's batch: the parent tries to clone it once the tree is listed. */
  readonly holdsLargeFile: boolean;
  /** Large files waiting that only a forked worker may copy. */
  readonly forkedFiles: number;
}

export function workersToFork(facts: ForkFacts, queued: Queued, pace: Pace): number {
  const useful = Math.min(facts.most, pace.usefulWorkers());
  let workers = facts.workers;
  while (workers < facts.most && (needsAProcess(workers, facts, queued, pace) || (workers < useful && worthAnother(workers, queued, pace) && roomFor(workers, facts, pace)))) workers++;
  return workers - facts.workers;
}

/**
 * No forked worker, and work the parent should not run itself: any without the
 * parent, a large file only a forked worker may copy, one waiting while the tree
 * is being listed, or, then, a copy that has already shown more than a moment's
 * work (the parent's batches keep its queue short, so the queue alone would never
 * ask for one), or jobs kept waiting by a slow listing. A large file waiting once the tree
 * is listed, the parent tries to clone.
 */
function needsAProcess(workers: number, facts: ForkFacts, queued: Queued, pace: Pace): boolean {
  if (workers > 0) return false;
  if (!facts.parentRuns || queued.forkedFiles > 0) return true;
  if (facts.listed) return false;
  return queued.holdsLargeFile || pace.worthAFirstWorker(facts.submittedJobs, facts.waitingMs);
}

/**
 * Up to one worker per core, room is made (the cores are shared with other work fairly); beyond that,
 * one more only while the cores have time to spare: jobs that wait on a slow mount need few cycles each,
 * but a worker's start-up and the mount's own work (a FUSE server, an NFS client) need them too, and
 * once every core is busy another worker only slows the rest.
 */
function roomFor(workers: number, facts: ForkFacts, pace: Pace): boolean {
  return workers < pace.cores || facts.coresIdle();
}

/**
 * One more beside `workers`: the small files waiting, at the measured pace, outlast its start-up; or
 * more large files wait than there are workers (a large file's copy, copy_file_range's pace, outlasts
 * a start-up many times over, and the pace times jobs, not bytes).
 */
function worthAnother(workers: number, queued: Queued, pace: Pace): boolean {
  return queued.forkedFiles > workers || pace.worthAnotherWorker(queued.jobs, workers);
}
