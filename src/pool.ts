/**
 * A fixed-size pool of forked worker processes. The parent owns every table:
 * queued batches, each worker's in-flight batches (at most two, so a worker never
 * waits for its next batch and the queue stays here, not in the IPC buffer), and
 * how far each batch is confirmed.
 *
 * A worker that dies loses only its unconfirmed jobs: their temporary files are
 * swept, and each is retried once, alone, on a fresh worker; a job that kills a
 * worker twice is reported as failed. A worker that cannot start, or workers
 * that keep dying, stop the pool instead of respawning in a loop.
 *
 * The CLI forks the first worker before it loads (forkEarlyWorker); the first
 * pool adopts it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { FoldercopyError } from './errors.js';
import type { CopyBatchMessage, ErrorRecord, Job, Outcome, RunSettings, WorkerMessage } from './protocol.js';
import { isWorkerMessage, OUTCOME } from './protocol.js';
import { joinRaw, type RawPath } from './raw-path.js';
import { discardWrite } from './temp-name.js';

const MAX_IN_FLIGHT_PER_WORKER = 2;
// Crashes in a row, with no job finished in between: a few OOM kills or poison files pass,
// a worker that dies on everything stops the run quickly.
const MAX_CRASHES_IN_A_ROW = 8;
// As jest-worker and vitest: a worker asked to leave gets this long before SIGKILL.
const EXIT_GRACE_MS = 500;
const STDERR_TAIL_CHARS = 2000;

/** What became of one job, as its worker confirmed it (see FilesDoneMessage). */
export interface JobReport {
  outcome: Outcome;
  /** Bytes of a regular file's source; 0 for other jobs. */
  size: number;
  error: ErrorRecord | null;
  /** The file's SHA-256 in hex, when RunSettings.digest asked for it. */
  digest: string | undefined;
  /** For a file deferred because it has other names. */
  inode: string | undefined;
}

export interface PoolOptions {
  size: number;
  source: RawPath;
  destination: RawPath;
  settings: RunSettings;
  onJobDone: (job: Job, report: JobReport) => void;
  /** After the jobs of one confirmation were reported: the moment to submit what they released, as one batch. */
  onConfirmation: () => void;
  onFileProgress: (job: Job, bytes: number) => void;
  /** Forks this script instead of worker.js; exists so tests can run a worker that crashes. */
  workerPath?: string;
}

interface Batch {
  id: number;
  jobs: Job[];
  /** Jobs [0, confirmed) are finished and reported. */
  confirmed: number;
  /** A retry after a crash: one job, which fails for good if it crashes again. */
  retry: boolean;
}

type WorkerState = 'starting' | 'ready' | 'stopping' | 'exited';

interface Worker {
  child: ChildProcess;
  pid: number;
  state: WorkerState;
  /** In the order sent; the worker runs them in that order, so only the first has started. */
  inFlight: Batch[];
  stderrTail: string;
  exited: Promise<void>;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly queue: Batch[] = [];
  private readonly workers = new Set<Worker>();
  private readonly waiters: Waiter[] = [];
  private readonly workerPath: string;
  private queuedJobs = 0;
  private nextBatchId = 1;
  private crashesInARow = 0;
  private someWorkerWasReady = false;
  private closing = false;
  private failure: FoldercopyError | null = null;

  constructor(private readonly options: PoolOptions) {
    this.workerPath = options.workerPath ?? WORKER_PATH;
    // A worker takes ~90 ms to start: the first one boots while the parent lists the tree.
    this.spawn(options.workerPath === undefined ? adoptEarlyWorker() : null);
  }

  submit(jobs: Job[]): void {
    this.queue.push({ id: this.nextBatchId++, jobs, confirmed: 0, retry: false });
    this.queuedJobs += jobs.length;
    this.dispatch();
  }

  /** Jobs waiting in the parent's queue, not yet sent to a worker. */
  get backlog(): number {
    return this.queuedJobs;
  }

  whenBacklogBelow(jobs: number): Promise<void> {
    return this.waitUntil(() => this.queuedJobs < jobs);
  }

  /** Resolves when every submitted job is finished; rejects if the pool had to stop. */
  whenIdle(): Promise<void> {
    return this.waitUntil(() => this.queue.length === 0 && this.inFlightCount() === 0);
  }

  /**
   * Stops the pool: drops queued batches, gives in-flight ones `graceMs` to finish,
   * then lets workers leave (SIGKILL after a grace) and sweeps what they left.
   */
  async close(graceMs = 0): Promise<void> {
    this.closing = true;
    this.queue.length = 0;
    this.queuedJobs = 0;
    if (this.inFlightCount() > 0 && graceMs > 0) {
      let graceOver = false;
      const graceTimer = setTimeout(() => {
        graceOver = true;
        this.notify();
      }, graceMs);
      await this.waitUntil(() => graceOver || this.inFlightCount() === 0).catch(() => {});
      clearTimeout(graceTimer);
    }
    const leaving = [...this.workers];
    for (const worker of leaving) this.stopWorker(worker);
    const killTimer = setTimeout(() => {
      for (const worker of leaving) if (worker.state !== 'exited') worker.child.kill('SIGKILL');
    }, EXIT_GRACE_MS);
    await Promise.all(leaving.map((worker) => worker.exited));
    clearTimeout(killTimer);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closing && !this.failure) {
      const worker = this.leastBusyReadyWorker();
      if (!worker) {
        this.spawnIfUseful();
        break;
      }
      const batch = this.queue.shift()!;
      this.queuedJobs -= batch.jobs.length;
      worker.inFlight.push(batch);
      const message: CopyBatchMessage = {
        type: 'copy',
        batchId: batch.id,
        source: this.options.source,
        destination: this.options.destination,
        settings: this.options.settings,
        jobs: batch.jobs,
      };
      // A send to a worker that is dying fails in its 'error' event; its 'exit' re-queues the batch.
      worker.child.send(message);
    }
    this.notify();
  }

  private leastBusyReadyWorker(): Worker | undefined {
    let best: Worker | undefined;
    for (const worker of this.workers) {
      if (worker.state !== 'ready' || !worker.child.connected || worker.inFlight.length >= MAX_IN_FLIGHT_PER_WORKER) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    return best;
  }

  /**
   * Further workers start only when work waits for them, so a ten-file copy forks
   * one process, not one per core; but as soon as a second batch waits, since a
   * worker takes a good part of a second-long copy to boot while the parent lists.
   */
  private spawnIfUseful(): void {
    if (this.workers.size >= this.options.size) return;
    let starting = 0;
    for (const worker of this.workers) if (worker.state === 'starting') starting++;
    if (this.queue.length > starting) this.spawn();
  }

  private spawn(early: EarlyWorker | null = null): void {
    const child = early?.child ?? forkWorker(this.workerPath);
    let markExited!: () => void;
    const worker: Worker = {
      child,
      pid: child.pid ?? -1,
      state: early?.ready ? 'ready' : 'starting',
      inFlight: [],
      stderrTail: '',
      exited: new Promise((resolve) => (markExited = resolve)),
    };
    this.workers.add(worker);
    if (early?.ready) this.someWorkerWasReady = true;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      worker.stderrTail = (worker.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    child.on('message', (message: unknown) => this.onMessage(worker, message));
    child.on('error', (error) => {
      // EPIPE and failed sends surface here and 'exit' follows. A failed spawn has no process
      // and may never see 'exit': it is the start-up failure, or the copy would wait for ever.
      if (child.pid !== undefined) return;
      worker.stderrTail = error.message;
      this.onExit(worker, null, null);
      markExited();
    });
    child.on('exit', (code, signal) => {
      this.onExit(worker, code, signal);
      markExited();
    });
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isWorkerMessage(message)) {
      this.fail(new FoldercopyError('WORKER_PROTOCOL', `worker ${worker.pid} sent an unexpected message: ${JSON.stringify(message)}`));
      return;
    }
    this.handle(worker, message);
  }

  private handle(worker: Worker, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        worker.state = 'ready';
        this.someWorkerWasReady = true;
        this.dispatch();
        return;
      case 'fileProgress': {
        const batch = worker.inFlight[0];
        const job = batch?.id === message.batchId ? batch.jobs[batch.confirmed] : undefined;
        if (job) this.options.onFileProgress(job, message.bytes);
        return;
      }
      case 'filesDone': {
        const batch = worker.inFlight[0];
        if (batch?.id !== message.batchId) {
          this.fail(new FoldercopyError('WORKER_PROTOCOL', `worker ${worker.pid} confirmed batch ${message.batchId} out of order`));
          return;
        }
        const failures = message.failures.length > 0 ? new Map(message.failures.map((f) => [f.index, f.error])) : null;
        const inodes = message.linked.length > 0 ? new Map(message.linked.map((l) => [l.index, l.inode])) : null;
        const first = batch.confirmed;
        const end = first + message.count;
        if (message.count > 0) this.crashesInARow = 0;
        for (let index = first; index < end; index++) {
          batch.confirmed = index + 1;
          this.options.onJobDone(batch.jobs[index]!, {
            outcome: message.outcomes[index - first] as Outcome,
            size: message.sizes[index - first] ?? 0,
            error: failures?.get(index) ?? null,
            digest: message.digests?.[index - first],
            inode: inodes?.get(index),
          });
        }
        this.options.onConfirmation();
        if (batch.confirmed >= batch.jobs.length) {
          worker.inFlight.shift();
          this.dispatch();
        }
        return;
      }
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const expected = worker.state === 'stopping' || this.closing;
    const startedUp = worker.state !== 'starting';
    worker.state = 'exited';
    this.workers.delete(worker);
    const started = worker.inFlight[0];
    const unconfirmed = started ? started.jobs.slice(started.confirmed) : [];
    // Every in-flight batch, not only the first: once the channel closes, confirmations are lost,
    // and a worker told to leave may already be writing its second batch when it is killed.
    for (const batch of worker.inFlight) this.sweepTemporaryFiles(batch.jobs.slice(batch.confirmed), worker.pid);
    const how = signal ? `was killed by ${signal}` : code === null ? 'could not be started' : `exited with code ${code}`;

    if (expected) {
      this.notify();
      return;
    }
    // Only a worker that exits on its own before any worker was ever ready says the install is broken;
    // one killed by a signal while booting (the OOM killer, a user) is a crash like any other.
    if (!startedUp && !this.someWorkerWasReady && signal === null) {
      const output = worker.stderrTail.trim();
      this.fail(new FoldercopyError('WORKER_START', `a worker process could not start: it ${how}${output ? `\n${output}` : ''}`));
      return;
    }
    this.crashesInARow++;
    const notStarted = worker.inFlight.slice(1);
    if (started?.retry) {
      for (const job of unconfirmed) {
        const error: ErrorRecord = {
          code: 'WORKER_CRASHED',
          message: `the worker copying it ${how}, twice`,
          operation: 'worker',
          path: joinRaw(this.options.source, job.path),
        };
        this.options.onJobDone(job, { outcome: OUTCOME.failed, size: 0, error, digest: undefined, inode: undefined });
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
      this.fail(new FoldercopyError('WORKER_CRASHED', `worker processes keep dying (the last one ${how}); stopping`));
      return;
    }
    this.dispatch();
  }

  /** What a dead worker may have half written. In a staged copy that is the entry's own name, still invisible. */
  private sweepTemporaryFiles(jobs: Job[], pid: number): void {
    const { destination, settings } = this.options;
    for (const job of jobs) discardWrite(joinRaw(destination, job.path), pid, settings.staged);
  }

  private stopWorker(worker: Worker): void {
    if (worker.state === 'exited') return;
    worker.state = 'stopping';
    // The worker exits on its own when the channel closes (see worker.ts).
    if (worker.child.connected) worker.child.disconnect();
    else worker.child.kill('SIGKILL');
  }

  private inFlightCount(): number {
    let count = 0;
    for (const worker of this.workers) count += worker.inFlight.length;
    return count;
  }

  private fail(error: FoldercopyError): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private waitUntil(ready: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ ready, resolve, reject }));
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.ready()) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

const WORKER_PATH = fileURLToPath(new URL('./worker.js', import.meta.url));

function forkWorker(workerPath: string): ChildProcess {
  return fork(workerPath, [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // A debugger flag would make every worker try to bind the parent's inspector port.
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
    env: workerEnvironment(),
  });
}

/**
 * Workers make no TLS connections, and Node parses every certificate in
 * NODE_EXTRA_CA_CERTS as it starts: with a system bundle there (common behind a
 * corporate proxy, and on this project's machine) that is ~60 ms of CPU per worker.
 */
function workerEnvironment(): NodeJS.ProcessEnv {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return process.env;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** A worker forked before any pool exists, and whether its 'ready' came in meanwhile. */
interface EarlyWorker {
  child: ChildProcess;
  ready: boolean;
  /** Its listeners until a pool adopts it. */
  onMessage: (message: unknown) => void;
  onError: () => void;
}

let earlyWorker: EarlyWorker | null = null;

/**
 * Forks the first worker before the CLI has even loaded: booting one takes about
 * as long as loading and checking everything else, so a small copy's start-up
 * halves its wait. The next pool adopts it; unadopted (a usage error), it holds
 * nothing open, and leaves when its channel closes with this process.
 */
export function forkEarlyWorker(): void {
  if (earlyWorker) return;
  const child = forkWorker(WORKER_PATH);
  const early: EarlyWorker = {
    child,
    ready: false,
    onMessage: (message) => {
      if (isWorkerMessage(message) && message.type === 'ready') early.ready = true;
    },
    // A failed fork reports here; the pool then forks its own and reports that one.
    onError: () => {},
  };
  child.on('message', early.onMessage);
  child.on('error', early.onError);
  holdOpen(child, false);
  earlyWorker = early;
}

/** The early worker, if it is still alive; the pool takes over its events from here. */
function adoptEarlyWorker(): EarlyWorker | null {
  const early = earlyWorker;
  earlyWorker = null;
  if (!early) return null;
  const { child } = early;
  child.off('message', early.onMessage);
  child.off('error', early.onError);
  // Events are delivered on later turns: alive now, its exit is still to be seen by the pool.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null || !child.connected) {
    child.kill('SIGKILL');
    return null;
  }
  holdOpen(child, true);
  return early;
}

/** Whether the child's process, channel and stderr pipe keep this process's event loop alive. */
function holdOpen(child: ChildProcess, hold: boolean): void {
  for (const handle of [child, child.channel, child.stderr as Socket | null]) {
    if (hold) handle?.ref();
    else handle?.unref();
  }
}
