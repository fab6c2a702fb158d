/**
 * The parent's queue of batches not yet sent, with the count of jobs in it
 * (kept as batches come and go: the pace and the backlog read it often).
 * A large file, which a worker hands back when it meets one, goes ahead of the
 * small files queued (behind retries and the large files before it): at the back
 * it waited behind up to 32,768 of them and went last, so the progress could not
 * time its bytes until the end, and the copy ended on one file's long tail.
 * A file the census (run/census.ts) found large is taken out of its batch and goes
 * there too, before a worker meets it (promote()): alone, so the worker hands it
 * back at once to be sent as a large file.
 */
import { isLargeFile, type FileJob, type Job } from '../shared/jobs.js';
import type { RawPath } from '../shared/raw-path.js';
import type { Batch } from './worker-process.js';

export class BatchQueue {
  private readonly batches: Batch[] = [];
  private nextId = 1;
  private queuedJobs = 0;

  get jobs(): number {
    return this.queuedJobs;
  }

  get isEmpty(): boolean {
    return this.batches.length === 0;
  }

  /** The next batch out is a large file only a forked worker may copy (the parent only clones). */
  get forkedFirst(): boolean {
    return this.batches.length > 0 && isForkedBatch(this.batches[0]!);
  }

  get holdsLargeFile(): boolean {
    return this.batches.some(isLargeBatch);
  }

  /** Large files waiting that only a forked worker may copy. */
  get forkedFiles(): number {
    let count = 0;
    for (const batch of this.batches) if (isForkedBatch(batch)) count++;
    return count;
  }

  add(jobs: Job[]): void {
    const batch = { id: this.nextId++, jobs, confirmed: 0, retry: false };
    this.queuedJobs += jobs.length;
    // Most batches are small files: they go to the back without a look at the queue.
    if (!isLargeBatch(batch)) this.batches.push(batch);
    else this.putAhead(batch);
  }

  /** Behind the retries and the large files queued, ahead of the small files. */
  private putAhead(batch: Batch): void {
    let at = 0;
    while (at < this.batches.length && (this.batches[at]!.retry || isLargeBatch(this.batches[at]!))) at++;
    this.batches.splice(at, 0, batch);
  }

  /**
   * The file at `path`, queued in a batch of small files, goes ahead of them, alone; nothing when it
   * is not queued (sent, or not listed yet). Once per large file: a look through the queue is cheap.
   */
  promote(path: RawPath): void {
    for (let b = 0; b < this.batches.length; b++) {
      const batch = this.batches[b]!;
      if (batch.retry || isLargeBatch(batch)) continue;
      const index = batch.jobs.findIndex((job) => job.kind === 'file' && job.path === path);
      if (index < 0) continue;
      const job = batch.jobs[index]!;
      // Copies, not splice: the submitted array is the caller's.
      batch.jobs = [...batch.jobs.slice(0, index), ...batch.jobs.slice(index + 1)];
      if (batch.jobs.length === 0) this.batches.splice(b, 1);
      this.putAhead({ id: this.nextId++, jobs: [job], confirmed: 0, retry: false });
      return;
    }
  }

  /** Ahead of everything: each retry alone, then the batches sent again whole. */
  requeue(retries: Job[], resent: Batch[]): void {
    const requeued = [...retries.map((job) => ({ id: this.nextId++, jobs: [job], confirmed: 0, retry: true })), ...resent];
    this.batches.unshift(...requeued);
    for (const batch of requeued) this.queuedJobs += batch.jobs.length;
  }

  /** The front, cut to `size` jobs; a retry stays alone. */
  take(size: number): Batch {
    const first = this.batches[0]!;
    let batch: Batch;
    if (first.retry || first.jobs.length <= size) batch = this.batches.shift()!;
    else {
      // Copies, not splice: the submitted array is the caller's.
      batch = { id: this.nextId++, jobs: first.jobs.slice(0, size), confirmed: 0, retry: false };
      first.jobs = first.jobs.slice(size);
    }
    this.queuedJobs -= batch.jobs.length;
    return batch;
  }

  clear(): void {
    this.batches.length = 0;
    this.queuedJobs = 0;
  }
}

/** A large file travels alone (run/plan.ts). */
export function isLargeBatch(batch: Batch): boolean {
  return batch.jobs.length === 1 && isLargeFile(batch.jobs[0]!);
}

/** A large file only a forked worker may copy (see FileJob). */
function isForkedBatch(batch: Batch): boolean {
  return isLargeBatch(batch) && (batch.jobs[0] as FileJob).forked === true;
}
