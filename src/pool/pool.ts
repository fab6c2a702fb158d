/**
 * A pool of forked worker processes. The parent owns every table: queued
 * batches, each worker's in-flight batches, and how far each batch is
 * confirmed. It knows processes, not files: the run says what a batch's message
 * carries and what a dead worker leaves to sweep, and crash-policy.ts what a
 * worker's exit means.
 */
import os from 'node:os';
import { RunStopped, type ErrorRecord } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import type { CopyBatch, FilesDone, FromWorker, JobResult } from '../shared/protocol.js';
import type { RawPath } from '../shared/raw-path.js';
import { BatchQueue, isLargeBatch } from './batch-queue.js';
import { readConfirmation } from './confirmation.js';
import { judgeExit } from './crash-policy.js';
import { Crew } from './crew.js';
import { workersToFork } from './forking.js';
import { IdleCores } from './idle-cores.js';
import { MAX_BATCH_JOBS, Pace } from './pace.js';
import { Waiters } from './waiters.js';
import { coreWaitMs } from '../shared/core-wait.js';
import { InlineWorker, type RunInParent } from './inline-worker.js';
import { forkWorker, stopAll, WORKER_PATH, WorkerProcess, type WorkerState } from './worker-process.js';

export interface PoolOptions {
  size: number;
  /** The source root, which a job that keeps killing workers fails at. */
  source: RawPath;
  /** The message that carries a batch's jobs to whoever runs it. */
  copyMessage: (batchId: number, jobs: Job[]) => CopyBatch;
  /** Runs batches in the parent until a forked worker is ready; without it, only forked workers run them. */
  runInParent?: RunInParent;
  /** A worker died before confirming these jobs: what it half wrote is the run's to sweep. */
  onWorkerLost: (jobs: Job[], pid: number) => void;
  onJobDone: (job: Job, result: JobResult) => void;
  /** After the jobs of one confirmation were reported: the moment to submit what they released, as one batch. */
  onConfirmation: () => void;
  onFileProgress: (job: Job, bytes: number) => void;
  /** Forks this script instead of worker.js; exists so tests can run a worker that crashes. */
  workerPath?: string;
  /** Jobs write onto a network or FUSE file system: before any is timed, each is taken to wait on round trips (pace.ts). */
  remote?: boolean;
}

/** Whatever runs batches: a forked worker, or the parent itself. */
type Executor = WorkerProcess | InlineWorker;

/** open: dispatching; stopped: a failure ended it; closing: close() was called. */
type PoolState = 'open' | 'stopped' | 'closing';

export class WorkerPool {
  private readonly queue = new BatchQueue();
  private readonly crew = new Crew();
  private readonly waiters = new Waiters();
  private readonly pace: Pace;
  private readonly idleCores = new IdleCores();
  private readonly coresIdle = (): boolean => this.idleCores.some(performance.now());
  private readonly workerPath: string;
  private state: PoolState = 'open';
  /** Every job submitted so far: what the copy has shown of its size. */
  private submittedJobs = 0;
  /** When the first job was submitted, and how long the parent had waited for a core by then; -1 before. */
  private firstSubmittedAt = -1;
  private coreWaitAtFirstSubmit = 0;
  /** The planner has submitted everything it listed (jobs handed back may follow). */
  private listed = false;
  private crashesInARow = 0;
  private someWorkerWasReady = false;

  /** The parent itself, running batches until a forked worker is ready; null without options.runInParent. */
  private readonly inline: InlineWorker | null;

  constructor(private readonly options: PoolOptions) {
    this.workerPath = options.workerPath ?? WORKER_PATH;
    const { runInParent } = options;
    this.pace = new Pace(os.availableParallelism(), options.remote === true);
    this.inline = runInParent ? new InlineWorker(runInParent, (worker, message) => this.onMessage(worker, message)) : null;
  }

  submit(jobs: Job[]): void {
    this.queue.add(jobs);
    if (this.submittedJobs === 0) {
      this.firstSubmittedAt = performance.now();
      this.coreWaitAtFirstSubmit = coreWaitMs();
    }
    this.submittedJobs += jobs.length;
    this.dispatch();
  }

  /** A file found large before a worker met it (the census's): it goes ahead of the small files queued. */
  promote(path: RawPath): void {
    this.queue.promote(path);
  }

  /** Every job is submitted: what is left is known, and only worth a worker if it outlasts starting one. */
  listingDone(): void {
    this.listed = true;
    this.dispatch();
  }

  /** Jobs waiting in the parent's queue, not yet sent to a worker. */
  get backlog(): number {
    return this.queue.jobs;
  }

  whenBacklogBelow(jobs: number): Promise<void> {
    return this.waiters.until(() => this.queue.jobs < jobs);
  }

  /** Resolves when every submitted job is finished; rejects with RunStopped if the pool had to stop. */
  whenIdle(): Promise<void> {
    return this.waiters.until(() => this.queue.isEmpty && this.inFlightCount() === 0);
  }

  /**
   * Stops the pool: drops queued batches, gives in-flight ones `graceMs` to finish,
   * then lets workers leave (SIGKILL after a grace); what they leave unconfirmed goes to onWorkerLost.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    this.queue.clear();
    if (this.inFlightCount() > 0 && graceMs > 0) await this.waiters.within(graceMs, () => this.inFlightCount() === 0);
    await stopAll(this.crew.list());
  }

  private dispatch(): void {
    while (!this.queue.isEmpty && this.state === 'open') {
      const worker = this.crew.leastBusyReady() ?? this.inlineIfFree();
      if (!worker) break;
      // The length the measured pace asks for, at most a forked worker's longest or the parent's short turn.
      const most = worker === this.inline ? this.pace.inlineBatchSize() : MAX_BATCH_JOBS;
      const batch = this.queue.take(Math.min(most, this.pace.batchSize(this.queue.jobs, this.options.size)));
      // An idle worker starts on it now; a busy one when its current batch is confirmed.
      if (worker.inFlight.length === 0) worker.busySince = performance.now();
      worker.inFlight.push(batch);
      worker.send(this.options.copyMessage(batch.id, batch.jobs));
    }
    if (!this.queue.isEmpty && this.state === 'open') this.spawnIfUseful();
    this.waiters.notify();
  }

  /**
   * The parent, once the listing is done (until then its time is the walk's, which
   * every worker waits on), while no forked worker is ready, for any batch but a large file's.
   */
  private inlineIfFree(): InlineWorker | undefined {
    const { inline } = this;
    if (!this.listed || !inline?.canTake() || this.queue.forkedFirst || this.crew.anyReady) return undefined;
    return inline;
  }

  private spawnIfUseful(): void {
    const facts = { workers: this.crew.size, most: this.options.size, parentRuns: this.inline !== null, listed: this.listed, submittedJobs: this.submittedJobs, waitingMs: this.waitingMs(), coresIdle: this.coresIdle };
    for (let n = workersToFork(facts, this.queue, this.pace); n > 0; n--) this.spawn();
  }

  /**
   * How long the first jobs have waited for the listing to end, less what the parent waited for a core
   * meanwhile (a busy machine slows the listing, not the file system); asked only while nothing is forked.
   */
  private waitingMs(): number {
    if (this.firstSubmittedAt < 0 || this.listed || this.crew.size > 0) return 0;
    return performance.now() - this.firstSubmittedAt - (coreWaitMs() - this.coreWaitAtFirstSubmit);
  }

  private spawn(): void {
    const worker = new WorkerProcess(forkWorker(this.workerPath), {
      onMessage: (from, message) => this.onMessage(from, message),
      onBadMessage: (from, message) => this.fail(protocolError(`worker ${from.pid} sent an unexpected message: ${JSON.stringify(message)}`)),
      onExit: (from, code, signal, before) => this.onExit(from, code, signal, before),
    });
    this.crew.add(worker);
    if (worker.state === 'ready') this.someWorkerWasReady = true;
  }

  private onMessage(worker: Executor, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        this.someWorkerWasReady = true;
        this.dispatch();
        return;
      case 'fileProgress': {
        const batch = worker.inFlight[0];
        const job = batch?.id === message.batchId ? batch.jobs[batch.confirmed] : undefined;
        if (job) this.options.onFileProgress(job, message.bytes);
        return;
      }
      case 'filesDone':
        this.onFilesDone(worker, message);
    }
  }

  private onFilesDone(worker: Executor, message: FilesDone): void {
    const results = readConfirmation(worker.pid, worker.inFlight[0], message);
    if (typeof results === 'string') {
      this.fail(protocolError(results));
      return;
    }
    // Read, so it confirms the first batch in flight.
    const batch = worker.inFlight[0]!;
    if (results.length > 0) this.crashesInARow = 0;
    this.pace.timeConfirmation(worker, performance.now(), { jobs: results.length, cpuMs: message.cpuMs ?? 0, waitMs: message.waitMs ?? 0, largeFile: isLargeBatch(batch) });
    // Indexed: once per file, where a for-of's iterator is an allocation.
    for (let i = 0; i < results.length; i++) this.options.onJobDone(batch.jobs[batch.confirmed++]!, results[i]!);
    this.options.onConfirmation();
    if (batch.confirmed >= batch.jobs.length) {
      worker.inFlight.shift();
      this.dispatch();
    } else if (!this.queue.isEmpty) this.spawnIfUseful();
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, before: WorkerState): void {
    this.crew.remove(worker);
    // Every in-flight batch, not only the first: once the channel closes, confirmations are lost,
    // and a worker told to leave may already be writing its second batch when it is killed.
    const unconfirmed = worker.inFlight.flatMap((batch) => batch.jobs.slice(batch.confirmed));
    if (unconfirmed.length > 0) this.options.onWorkerLost(unconfirmed, worker.pid);
    const { source } = this.options;
    const exit = { code, signal, before, inFlight: worker.inFlight, lastWords: worker.lastWords(), output: worker.output() };
    const verdict = judgeExit(exit, { open: this.state === 'open', someWorkerWasReady: this.someWorkerWasReady, crashesInARow: this.crashesInARow, source, workerPath: this.workerPath });
    if (verdict.kind === 'expected') {
      this.waiters.notify();
      return;
    }
    if (verdict.kind === 'cannotStart') {
      this.fail(verdict.error);
      return;
    }
    this.crashesInARow = verdict.crashesInARow;
    for (const { job, error } of verdict.failed) this.options.onJobDone(job, { outcome: 'failed', size: 0, error });
    if (verdict.failed.length > 0) this.options.onConfirmation();
    this.queue.requeue(verdict.retries, verdict.resent);
    if (verdict.stop) this.fail(verdict.stop);
    else this.dispatch();
  }

  private inFlightCount(): number {
    return (this.inline?.inFlight.length ?? 0) + this.crew.inFlight();
  }

  private fail(record: ErrorRecord): void {
    if (this.state !== 'open') return;
    this.state = 'stopped';
    this.waiters.fail(new RunStopped(record));
  }
}

function protocolError(message: string): ErrorRecord {
  return { code: 'WORKER_PROTOCOL', message, operation: 'worker', path: '' };
}
