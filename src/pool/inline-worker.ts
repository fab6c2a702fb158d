/**
 * The parent as a worker of its own pool. A forked worker takes about as long
 * to boot as a copy of a few hundred small files: so the parent runs batches
 * itself, with the workers' own code (worker/run-batch.ts), until a forked
 * worker is ready. A small copy forks nothing at all, and a large one is under
 * way while its first workers boot. It takes one batch at a time and runs it
 * synchronously on a later turn of the event loop, so nothing else the parent
 * does sees the umask a batch runs with. A large file's batch too, but only to
 * clone it (a reflink is made at once): one it cannot clone goes back to the
 * queue for a forked worker, since copying its bytes would hold the parent for seconds.
 */
import type { CopyBatch, FromWorker } from '../shared/protocol.js';
import { runBatch, type BatchRunner } from '../worker/run-batch.js';
import type { Batch } from './worker-process.js';

export class InlineWorker {
  readonly pid = process.pid;
  /** The batch it runs next, or none. */
  readonly inFlight: Batch[] = [];
  busySince = 0;
  /** Its first jobs load the native calls they make, as a forked worker's do. */
  warm = false;

  constructor(private readonly onMessage: (worker: InlineWorker, message: FromWorker) => void) {}

  canTake(): boolean {
    return this.inFlight.length === 0;
  }

  send(batch: CopyBatch): void {
    setImmediate(() => this.run(batch));
  }

  private run(batch: CopyBatch): void {
    const messages: FromWorker[] = [];
    const runner: BatchRunner = {
      pid: process.pid,
      inParent: true,
      send: (message) => messages.push(message),
      largeFileStep: () => {},
    };
    // Timed from here: the turn it waited for is not the jobs' time.
    this.busySince = performance.now();
    const cpuBefore = process.cpuUsage();
    // Workers create files with umask 0 and give the modes themselves: put back before anything else runs.
    const umask = process.umask(0);
    try {
      // Synchronous: in the parent, a large file is cloned or handed back, never awaited. Each file under a temporary
      // name even in a staged copy: a dead worker's half-written entries are swept by the parent,
      // but nothing would sweep the parent's own, were it killed mid-file.
      void runBatch({ ...batch, settings: { ...batch.settings, staged: false } }, runner);
    } finally {
      process.umask(umask);
    }
    // The batch's CPU, on its last confirmation: the parent's own is nobody's business here.
    const cpu = process.cpuUsage(cpuBefore);
    const last = messages[messages.length - 1];
    if (last?.type === 'filesDone') last.cpuMs = (cpu.user + cpu.system) / 1000;
    for (const message of messages) this.onMessage(this, message);
  }
}
