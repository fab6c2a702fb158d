/**
 * The forked workers alive, as dispatch sees them. Each holds at most two
 * batches: it never waits for its next one, and the queue stays in the parent,
 * not in the IPC buffer. A dead worker leaves the crew before its jobs are
 * queued again.
 */
import type { WorkerProcess } from './worker-process.js';

const MAX_IN_FLIGHT_PER_WORKER = 2;

export class Crew {
  private readonly workers = new Set<WorkerProcess>();

  get size(): number {
    return this.workers.size;
  }

  get anyReady(): boolean {
    for (const worker of this.workers) if (worker.state === 'ready') return true;
    return false;
  }

  add(worker: WorkerProcess): void {
    this.workers.add(worker);
  }

  remove(worker: WorkerProcess): void {
    this.workers.delete(worker);
  }

  /** A ready worker with room for a batch, the one holding fewest. */
  leastBusyReady(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    for (const worker of this.workers) {
      if (!worker.canTake(MAX_IN_FLIGHT_PER_WORKER)) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    return best;
  }

  /** Batches the workers hold. */
  inFlight(): number {
    let count = 0;
    for (const worker of this.workers) count += worker.inFlight.length;
    return count;
  }

  list(): WorkerProcess[] {
    return [...this.workers];
  }
}
