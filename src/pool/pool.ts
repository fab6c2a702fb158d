/**
 * A fixed-size pool of forked worker processes. The parent owns every table:
 * queued batches, each worker's in-flight batches (at most two, so a worker never
 * waits for its next batch and the queue stays here, not in the IPC buffer), and
 * how far each batch is confirmed.
 *
 * A worker that dies loses only its unconfirmed jobs: their temporary files are
 * swept, and each is retried once, alone, on a fresh worker; a job that kills a
 * worker twice is reported as failed, naming the exit code or signal and what
 * the worker said. A worker that cannot start, or workers that keep dying, stop
 * the run (RunStopped) instead of respawning in a loop.
 */
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { RunStopped, type ErrorRecord } from '../shared/errors.js';
import { isLargeFile, type Job, type RunSettings } from '../shared/jobs.js';
import { decodeResults, type FilesDone, type FromWorker, type JobResult } from '../shared/protocol.js';
import { joinRaw, rawFromString, type RawPath } from '../shared/raw-path.js';
import { writingPathFor } from '../shared/names-on-disk.js';
import { unlinkQuietly } from '../shared/unlink-quietly.js';
import { DirectoryHandles, entryLocation } from '../shared/directory-handles.js';
import { MAX_BATCH_JOBS, Pace } from './pace.js';
import { Waiters } from './waiters.js';
import { InlineWorker } from './inline-worker.js';
import { forkWorker, WORKER_PATH, WorkerProcess, type Batch, type WorkerState } from './worker-process.js';

const MAX_IN_FLIGHT_PER_WORKER = 2;
// Crashes in a row, with no job finished in between: a few OOM kills or poison files pass,
// a worker that dies on everything stops the run quickly.
const MAX_CRASHES_IN_A_ROW = 8;
// What a forked worker's first jobs spend loading the code they call (the native calls, the copy's modules).
const WARM_UP_MS = 30;
// As jest-worker and vitest: a worker asked to leave gets this long before SIGKILL.
const EXIT_GRACE_MS = 500;

export interface PoolOptions {
  size: number;
  source: RawPath;
  destination: RawPath;
  settings: RunSettings;
  onJobDone: (job: Job, result: JobResult) => void;
  /** After the jobs of one confirmation were reported: the moment to submit what they released, as one batch. */
  onConfirmation: () => void;
  onFileProgress: (job: Job, bytes: number) => void;
  /** Forks this script instead of worker.js, and never runs a batch in the parent; exists so tests can run a worker that crashes. */
  workerPath?: string;
}

/** Whatever runs batches: a forked worker, or the parent itself. */
type Executor = WorkerProcess | InlineWorker;

/** open: dispatching; stopped: a failure ended it; closing: close() was called. */
type PoolState = 'open' | 'stopped' | 'closing';

export class WorkerPool {
  private readonly queue: Batch[] = [];
  private readonly workers = new Set<WorkerProcess>();
  private readonly waiters = new Waiters();
  private readonly pace = new Pace(os.availableParallelism());
  private readonly workerPath: string;
  /** Where relative roots lead: workers work from inside destination directories. */
  private readonly cwd = rawFromString(process.cwd());
  private state: PoolState = 'open';
  private queuedJobs = 0;
  /** Every job submitted so far: what the copy has shown of its size. */
  private submittedJobs = 0;
  /** The planner has submitted everything it listed (jobs handed back may follow). */
  private listed = false;
  private nextBatchId = 1;
  private crashesInARow = 0;
  private someWorkerWasReady = false;

  /** The parent itself, running batches until a forked worker is ready (null with a test's workerPath, and in a worker thread). */
  private readonly inline: InlineWorker | null;

  constructor(private readonly options: PoolOptions) {
    this.workerPath = options.workerPath ?? WORKER_PATH;
    // Not in a worker thread, where a batch could not set the umask it creates files with (no process.umask there).
    this.inline = options.workerPath === undefined && isMainThread ? new InlineWorker((worker, message) => this.onMessage(worker, message)) : null;
  }

  submit(jobs: Job[]): void {
    this.queue.push({ id: this.nextBatchId++, jobs, confirmed: 0, retry: false });
    this.queuedJobs += jobs.length;
    this.submittedJobs += jobs.length;
    this.dispatch();
  }

  /** Every job is submitted: what is left is known, and only worth a worker if it outlasts starting one. */
  listingDone(): void {
    this.listed = true;
    this.dispatch();
  }

  /** Jobs waiting in the parent's queue, not yet sent to a worker. */
  get backlog(): number {
    return this.queuedJobs;
  }

  whenBacklogBelow(jobs: number): Promise<void> {
    return this.waiters.until(() => this.queuedJobs < jobs);
  }

  /** Resolves when every submitted job is finished; rejects with RunStopped if the pool had to stop. */
  whenIdle(): Promise<void> {
    return this.waiters.until(() => this.queue.length === 0 && this.inFlightCount() === 0);
  }

  /**
   * Stops the pool: drops queued batches, gives in-flight ones `graceMs` to finish,
   * then lets workers leave (SIGKILL after a grace) and sweeps what they left.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    this.queue.length = 0;
    this.queuedJobs = 0;
    if (this.inFlightCount() > 0 && graceMs > 0) {
      let graceOver = false;
      const graceTimer = setTimeout(() => {
        graceOver = true;
        this.waiters.notify();
      }, graceMs);
      await this.waiters.until(() => graceOver || this.inFlightCount() === 0).catch(() => {});
      clearTimeout(graceTimer);
    }
    this.state = 'closing';
    const leaving = [...this.workers];
    for (const worker of leaving) worker.stop();
    const killTimer = setTimeout(() => {
      for (const worker of leaving) worker.kill();
    }, EXIT_GRACE_MS);
    await Promise.all(leaving.map((worker) => worker.exited));
    clearTimeout(killTimer);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.state === 'open') {
      const worker = this.leastBusyReadyWorker() ?? this.inlineIfFree();
      if (!worker) break;
      const batch = this.nextBatch(worker === this.inline ? this.pace.inlineBatchSize() : MAX_BATCH_JOBS);
      this.queuedJobs -= batch.jobs.length;
      // An idle worker starts on it now; a busy one when its current batch is confirmed.
      if (worker.inFlight.length === 0) worker.busySince = performance.now();
      worker.inFlight.push(batch);
      const { source, destination, settings } = this.options;
      worker.send({ type: 'copy', batchId: batch.id, source, destination, cwd: this.cwd, settings, jobs: batch.jobs });
    }
    if (this.queue.length > 0 && this.state === 'open') this.spawnIfUseful();
    this.waiters.notify();
  }

  /** The front of the queue, cut to the length the measured pace asks for (at most `most`); a retry stays alone. */
  private nextBatch(most: number): Batch {
    const first = this.queue[0]!;
    const size = Math.min(most, this.pace.batchSize(this.queuedJobs, this.options.size));
    if (first.retry || first.jobs.length <= size) return this.queue.shift()!;
    // Copies, not splice: the submitted array is the caller's.
    const jobs = first.jobs.slice(0, size);
    first.jobs = first.jobs.slice(size);
    return { id: this.nextBatchId++, jobs, confirmed: 0, retry: false };
  }

  /**
   * The parent, once the listing is done (until then its time is the walk's, which
   * every worker waits on), while no forked worker is ready, for any batch but a large file's.
   */
  private inlineIfFree(): InlineWorker | undefined {
    const { inline } = this;
    if (!this.listed || !inline?.canTake() || isLargeBatch(this.queue[0]!)) return undefined;
    for (const worker of this.workers) if (worker.state === 'ready') return undefined;
    return inline;
  }

  private leastBusyReadyWorker(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    for (const worker of this.workers) {
      if (!worker.canTake(MAX_IN_FLIGHT_PER_WORKER)) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    return best;
  }

  /**
   * Further workers start only when the work waiting for them, at the measured
   * pace, saves more than a worker's start-up, so a hundred-file copy forks no
   * process, and a slow mount as many as pay, as soon as the first jobs are timed.
   * `workers` holds only live ones: a dead worker is removed before its jobs are queued again.
   */
  private spawnIfUseful(): void {
    const most = Math.min(this.options.size, this.pace.usefulWorkers());
    while (this.workers.size < this.options.size && (this.needsAProcess() || (this.workers.size < most && this.pace.worthAnotherWorker(this.queuedJobs, this.workers.size)))) {
      this.spawn();
    }
  }

  /**
   * No forked worker, and work the parent should not run itself: a large file's,
   * any without the parent, or, while the tree is being listed, a copy that has
   * already shown more than a moment's work (the parent's batches keep its queue
   * short, so the queue alone would never ask for one).
   */
  private needsAProcess(): boolean {
    if (this.workers.size > 0) return false;
    if (this.inline === null || this.queue.some(isLargeBatch)) return true;
    return !this.listed && this.pace.worthAFirstWorker(this.submittedJobs);
  }

  private spawn(): void {
    const worker = new WorkerProcess(forkWorker(this.workerPath), {
      onMessage: (from, message) => this.onMessage(from, message),
      onBadMessage: (from, message) => this.fail(protocolError(`worker ${from.pid} sent an unexpected message: ${JSON.stringify(message)}`)),
      onExit: (from, code, signal, before) => this.onExit(from, code, signal, before),
    });
    this.workers.add(worker);
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
    const batch = worker.inFlight[0];
    if (batch?.id !== message.batchId) {
      this.fail(protocolError(`worker ${worker.pid} confirmed batch ${message.batchId} out of order`));
      return;
    }
    let results: JobResult[];
    try {
      results = decodeResults(message);
    } catch (error) {
      this.fail(protocolError(`worker ${worker.pid} sent results that do not decode: ${(error as Error).message}`));
      return;
    }
    if (results.length > batch.jobs.length - batch.confirmed) {
      this.fail(protocolError(`worker ${worker.pid} confirmed more jobs than batch ${batch.id} holds`));
      return;
    }
    if (results.length > 0) this.crashesInARow = 0;
    this.timeJobs(worker, batch, results.length, message.cpuMs ?? 0);
    for (const result of results) this.options.onJobDone(batch.jobs[batch.confirmed++]!, result);
    this.options.onConfirmation();
    if (batch.confirmed >= batch.jobs.length) {
      worker.inFlight.shift();
      this.dispatch();
    } else if (this.queue.length > 0) this.spawnIfUseful();
  }

  /** The worker's time since its last confirmation (or since it started the batch) went to these jobs. */
  private timeJobs(worker: Executor, batch: Batch, jobs: number, cpuMs: number): void {
    const now = performance.now();
    // A large file's time is its bytes', not a job's; a worker's first jobs pay for loading its code.
    const elapsed = now - worker.busySince - (worker.warm ? 0 : WARM_UP_MS);
    if (!isLargeBatch(batch)) this.pace.observe(jobs, Math.max(0, elapsed), cpuMs);
    worker.warm = true;
    worker.busySince = now;
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, before: WorkerState): void {
    this.workers.delete(worker);
    const started = worker.inFlight[0];
    const unconfirmed = started ? started.jobs.slice(started.confirmed) : [];
    // Every in-flight batch, not only the first: once the channel closes, confirmations are lost,
    // and a worker told to leave may already be writing its second batch when it is killed.
    for (const batch of worker.inFlight) this.sweepTemporaryFiles(batch.jobs.slice(batch.confirmed), worker.pid);
    if (before === 'stopping' || this.state !== 'open') {
      this.waiters.notify();
      return;
    }
    const how = signal ? `was killed by ${signal}` : code === null ? 'could not be started' : `exited with code ${code}`;
    // Only a worker that exits on its own before any worker was ever ready says the install is broken;
    // one killed by a signal while booting (the OOM killer, a user) is a crash like any other.
    if (before === 'starting' && !this.someWorkerWasReady && signal === null) {
      const output = worker.output();
      this.fail({
        code: 'WORKER_START',
        message: `a worker process could not start: it ${how}${output ? `\n${output}` : ''}`,
        operation: 'worker',
        path: rawFromString(this.workerPath),
      });
      return;
    }
    this.crashesInARow++;
    const said = worker.lastWords();
    const why = `${how}${said ? ` (${said})` : ''}`;
    const notStarted = worker.inFlight.slice(1);
    if (started?.retry) {
      for (const job of unconfirmed) {
        const error: ErrorRecord = {
          code: 'WORKER_CRASHED',
          message: `the worker copying it ${why}, twice`,
          operation: 'worker',
          path: joinRaw(this.options.source, job.path),
        };
        this.options.onJobDone(job, { outcome: 'failed', size: 0, error });
      }
      this.options.onConfirmation();
    }
    const retries: Batch[] = started?.retry
      ? []
      : unconfirmed.map((job) => ({ id: this.nextBatchId++, jobs: [job], confirmed: 0, retry: true }));
    const requeued = [...retries, ...notStarted];
    this.queue.unshift(...requeued);
    for (const batch of requeued) this.queuedJobs += batch.jobs.length;
    if (this.crashesInARow > MAX_CRASHES_IN_A_ROW) {
      this.fail({
        code: 'WORKER_CRASHED',
        message: `worker processes keep dying (the last one ${why}); stopping`,
        operation: 'worker',
        path: this.options.source,
      });
      return;
    }
    this.dispatch();
  }

  /** What a dead worker may have half written. In a staged copy that is the entry's own name, still invisible. */
  private sweepTemporaryFiles(jobs: Job[], pid: number): void {
    const { destination, settings } = this.options;
    const directories = new Map<RawPath, DirectoryHandles>();
    for (const job of jobs) {
      const { root, relative } = entryLocation(destination, job.path);
      let handles = directories.get(root);
      if (!handles) directories.set(root, (handles = new DirectoryHandles(root)));
      try {
        unlinkQuietly(handles.entryPath(writingPathFor(relative, pid, settings.staged)));
      } catch {
        // Its directory cannot be reached (gone, or replaced by a symlink): nothing of ours is there to sweep.
      }
    }
    for (const handles of directories.values()) handles.closeAll();
  }

  private inFlightCount(): number {
    let count = this.inline?.inFlight.length ?? 0;
    for (const worker of this.workers) count += worker.inFlight.length;
    return count;
  }

  private fail(record: ErrorRecord): void {
    if (this.state !== 'open') return;
    this.state = 'stopped';
    this.waiters.fail(new RunStopped(record));
  }
}

/** A large file travels alone (run/plan.ts). */
function isLargeBatch(batch: Batch): boolean {
  return batch.jobs.length === 1 && isLargeFile(batch.jobs[0]!);
}

function protocolError(message: string): ErrorRecord {
  return { code: 'WORKER_PROTOCOL', message, operation: 'worker', path: '' };
}
