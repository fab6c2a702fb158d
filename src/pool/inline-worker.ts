/**
 * The parent as a worker of its own pool. A forked worker takes about as long
 * to boot as a copy of a few hundred small files: so the parent runs batches
 * itself, with the workers' own code (the run hands it in), until a forked
 * worker is ready. A small copy forks nothing at all, and a large one is under
 * way while its first workers boot. It takes one batch at a time and runs it
 * synchronously on a later turn of the event loop. A large file's batch too,
 * but only to clone it (a reflink is made at once): one it cannot clone goes
 * back to the queue for a forked worker, since copying its bytes would hold the
 * parent for seconds.
 */
import { coreWaitMs } from '../shared/core-wait.js';
import type { CopyBatch, FromWorker } from '../shared/protocol.js';
import type { Batch } from './worker-process.js';

/** Runs a batch in this process, synchronously, sending what a worker would. */
export type RunInParent = (batch: CopyBatch, send: (message: FromWorker) => void) => void;

export class InlineWorker {
  readonly pid = process.pid;
  /** The batch it runs next, or none. */
  readonly inFlight: Batch[] = [];
  busySince = 0;
  /** Its first jobs load the native calls they make, as a forked worker's do. */
  warm = false;

  constructor(
    private readonly runInParent: RunInParent,
    private readonly onMessage: (worker: InlineWorker, message: FromWorker) => void,
  ) {}

  canTake(): boolean {
    return this.inFlight.length === 0;
  }

  send(batch: CopyBatch): void {
    setImmediate(() => this.run(batch));
  }

  private run(batch: CopyBatch): void {
    const messages: FromWorker[] = [];
    // Timed from here: the turn it waited for is not the jobs' time.
    this.busySince = performance.now();
    const cpuBefore = process.cpuUsage();
    const waitBefore = coreWaitMs();
    this.runInParent(batch, (message) => messages.push(message));
    // The batch's CPU and its wait for a core, on its last confirmation: the parent's own are nobody's business here.
    const cpu = process.cpuUsage(cpuBefore);
    const last = messages[messages.length - 1];
    if (last?.type === 'filesDone') {
      last.cpuMs = (cpu.user + cpu.system) / 1000;
      last.waitMs = coreWaitMs() - waitBefore;
    }
    for (const message of messages) this.onMessage(this, message);
  }
}
