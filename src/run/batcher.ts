/**
 * Batches of jobs as the planner (plan.ts) submits them to the pool. The pool
 * cuts them shorter to the measured pace (pool/pace.ts), never longer.
 */
import { MAX_BATCH_JOBS } from '../pool/pace.js';
import { isLargeFile, type Job } from '../shared/jobs.js';

// A listing's jobs wait at most this long for a batch to fill: a few directories' round trips on a network mount.
const HOLD_MS = 20;

/**
 * Collects jobs into batches; a large file always travels alone. A batch not
 * full after HOLD_MS of listing goes all the same: where each directory made
 * is a round trip (a network mount), a full batch can take the whole listing,
 * and the workers would wait for it.
 */
export class Batcher {
  private jobs: Job[] = [];
  /** When the jobs held were first seen by held(); -1: not yet. */
  private heldSince = -1;

  constructor(private readonly send: (jobs: Job[]) => void) {}

  add(job: Job): void {
    if (isLargeFile(job)) {
      this.send([job]);
      return;
    }
    this.jobs.push(job);
    if (this.jobs.length >= MAX_BATCH_JOBS) this.flush();
  }

  /** Once a listing is planned: sends the jobs held once they have waited HOLD_MS. */
  held(now: number): void {
    if (this.jobs.length === 0) return;
    if (this.heldSince < 0) this.heldSince = now;
    else if (now - this.heldSince >= HOLD_MS) this.flush();
  }

  flush(): void {
    if (this.jobs.length === 0) return;
    const jobs = this.jobs;
    this.jobs = [];
    this.heldSince = -1;
    this.send(jobs);
  }
}
