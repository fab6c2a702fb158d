/**
 * How much work a worker is given at a time, and when another worker is worth
 * forking, from how long jobs take in this run. On a local disk a job takes tens
 * of microseconds and a batch is as long as it may be (fewer messages); on a
 * mount where every request waits a millisecond a job takes ten, and a batch of
 * the same length would hold one worker for seconds while the others sat idle.
 * So batches are cut when a worker takes one: a share of what waits, and no
 * shorter than TARGET_BATCH_MS at the measured pace.
 * Pure bookkeeping: the pool feeds it what it sees.
 */

/** Longest batch: many small files per message keeps IPC far below one message per file. */
export const MAX_BATCH_JOBS = 256;
// Before any job is timed, every batch: short enough that a slow mount is found out within a few jobs
// (a tenth of a second onto a mount adding 1 ms a request), so further workers fork that much sooner;
// on a local disk, one more message each way.
const FIRST_BATCH_JOBS = 8;
// Long enough that what a batch costs beside its jobs (a message each way, a few calls per directory
// entered) stays small even when other processes slow the measured pace; short enough to share out.
const TARGET_BATCH_MS = 100;
// What a job is taken to cost before one is timed: a small file on a local disk; onto a network or FUSE
// file system, about ten requests that each wait a round trip (0.1 ms on a LAN, as NFS's).
const ASSUMED_MS_PER_JOB = 0.05;
const ASSUMED_MS_PER_REMOTE_JOB = 1;
// A worker takes about this long to start: work waiting for less is done sooner by the workers there are.
const WORKER_WORTH_MS = 100;
// A job is taken to keep a core at least this busy: timing noise never asks for a worker per job.
const MIN_CPU_SHARE = 0.05;
// Work shown, while listing, that forks the first worker: about two hundred small files.
const FIRST_WORKER_WORTH_MS = 10;
// Each measurement's weight fades by this factor per new one, so the pace follows a change of file sizes.
const DECAY = 0.8;
// What a forked worker's first jobs spend loading the code they call (the native calls, the copy's modules).
const WARM_UP_MS = 30;

/** Whoever runs batches, as the pace times it. */
export interface JobClock {
  /** Since when the jobs it will confirm next have been running. */
  busySince: number;
  /** It has confirmed jobs before: its times no longer include loading the code they call. */
  warm: boolean;
}

/** What a confirmation says of the jobs it confirms (protocol.ts's FilesDone). */
export interface Confirmed {
  jobs: number;
  /** CPU the runner spent on them. */
  cpuMs: number;
  /** Time the runner waited for a core meanwhile. */
  waitMs: number;
  /** A large file's: timed by its bytes, not as a job. */
  largeFile: boolean;
}

export class Pace {
  private weightedMs = 0;
  private weightedJobs = 0;
  private weightedCpuMs = 0;

  private readonly assumedMsPerJob: number;

  constructor(
    /** Cores the workers share. */
    readonly cores: number,
    /** Jobs write onto a network or FUSE file system: each waits on round trips. */
    remote = false,
  ) {
    this.assumedMsPerJob = remote ? ASSUMED_MS_PER_REMOTE_JOB : ASSUMED_MS_PER_JOB;
  }

  /** `jobs` finished by one worker in `elapsedMs` of its time, of which it spent `cpuMs` on a core. */
  observe(jobs: number, elapsedMs: number, cpuMs: number): void {
    if (jobs <= 0 || !(elapsedMs >= 0) || !(cpuMs >= 0)) return;
    this.weightedMs = this.weightedMs * DECAY + elapsedMs;
    this.weightedJobs = this.weightedJobs * DECAY + jobs;
    this.weightedCpuMs = this.weightedCpuMs * DECAY + Math.min(cpuMs, elapsedMs);
  }

  /**
   * `runner`'s time from its last confirmation (or from starting the batch) to
   * `now` went to `jobs`, less what it waited for a core (`waitMs`: other processes'
   * time, not the jobs'). A large file's time is its bytes', not a job's.
   */
  timeConfirmation(runner: JobClock, now: number, { jobs, cpuMs, waitMs, largeFile }: Confirmed): void {
    const elapsed = now - runner.busySince - (runner.warm ? 0 : WARM_UP_MS) - waitMs;
    if (!largeFile) this.observe(jobs, Math.max(0, elapsed), cpuMs);
    runner.warm = true;
    runner.busySince = now;
  }

  /**
   * How many workers the cores can keep busy: all of them when jobs only wait
   * on the file system (a slow mount), about one per core when they compute
   * (a local disk), so a worker that would only take a core from the others is
   * not forked. Unbounded before anything is timed.
   */
  usefulWorkers(): number {
    if (this.weightedMs <= 0) return Number.POSITIVE_INFINITY;
    const onCore = Math.max(this.weightedCpuMs / this.weightedMs, MIN_CPU_SHARE);
    return Math.ceil(this.cores / onCore);
  }

  /** Milliseconds a job takes, as measured so far; undefined before any was timed. */
  get msPerJob(): number | undefined {
    return this.weightedJobs > 0 ? this.weightedMs / this.weightedJobs : undefined;
  }

  /**
   * How many jobs the next batch holds: a fair share of what waits, half of it
   * for each of `workers` (so shares shrink as the queue empties, and the last
   * batches end together), but never so short that it lasts less than
   * TARGET_BATCH_MS: each batch costs a worker a few calls per directory it
   * enters, which on a slow mount cost as much as a file. Before any job is
   * timed, FIRST_BATCH_JOBS, however many wait.
   */
  batchSize(queuedJobs: number, workers: number): number {
    if (this.msPerJob === undefined) return FIRST_BATCH_JOBS;
    return clampBatch(Math.max(this.longBatch(), Math.ceil(queuedJobs / (2 * workers))));
  }

  /** A batch the parent runs itself: about TARGET_BATCH_MS, so its event loop (progress, signals) is never held longer. */
  inlineBatchSize(): number {
    return clampBatch(this.longBatch());
  }

  /** Jobs that last TARGET_BATCH_MS at the measured pace; FIRST_BATCH_JOBS before any was timed. */
  private longBatch(): number {
    const ms = this.msPerJob;
    return ms === undefined ? FIRST_BATCH_JOBS : Math.floor(TARGET_BATCH_MS / Math.max(ms, 1e-3));
  }

  /**
   * While the tree is still being listed, whether the jobs shown so far are worth
   * a first worker: it boots on another core while the parent copies on, so it
   * pays for any copy longer than a moment. So does a listing that has kept the
   * first jobs waiting longer than a worker takes to start (each directory a round
   * trip on a network mount): nobody runs them until it ends. (Once the listing is
   * done, the work left is known: worthAnotherWorker decides.)
   */
  worthAFirstWorker(submittedJobs: number, waitingMs: number): boolean {
    return submittedJobs * (this.msPerJob ?? this.assumedMsPerJob) > FIRST_WORKER_WORTH_MS || (submittedJobs > 0 && waitingMs > WORKER_WORTH_MS);
  }

  /**
   * Whether the jobs waiting are worth one more worker beside the `workers`
   * forked already: the time it saves (the work spread over one more, W/k -
   * W/(k+1)) must outlast its start-up, which also takes a core from the copy.
   * With none forked yet, the parent alone does the work.
   */
  worthAnotherWorker(queuedJobs: number, workers: number): boolean {
    const work = queuedJobs * (this.msPerJob ?? this.assumedMsPerJob);
    return work / Math.max(1, workers * (workers + 1)) > WORKER_WORTH_MS;
  }
}

function clampBatch(jobs: number): number {
  return Math.max(1, Math.min(MAX_BATCH_JOBS, jobs));
}
