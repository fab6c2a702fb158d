/**
 * Schedules jobs: which name of a multi-name file is copied and which become
 * links to its copy, and how jobs are grouped into batches. Pure bookkeeping,
 * no I/O: the parent decides here what each worker will do.
 */
import type { FileJob, Job } from './protocol.js';
import { isLargeFile } from './protocol.js';
import type { RawPath } from './raw-path.js';

// Many small files per message keeps IPC far below one message per file
// (a worker also ends a batch early once it has written BATCH_MAX_BYTES: see worker.ts).
export const BATCH_MAX_JOBS = 256;

/**
 * Files that share an inode in the source share one in the copy. Workers hand
 * back every file with other names; the first name is copied, the others wait
 * for it and become links to the copy. If the first copy fails, the next name
 * is copied in its place.
 */
const NOTHING_RELEASED: readonly Job[] = Object.freeze([]);

export class HardLinks {
  private readonly groups = new Map<string, { copied: RawPath | null; waiting: FileJob[] }>();
  /** First names being copied now, by path, with their inode. */
  private readonly copying = new Map<RawPath, string>();

  /** The job to run now for this file, or null when it must wait for the first name's copy. */
  add(job: FileJob, inode: string): Job | null {
    const group = this.groups.get(inode);
    if (!group) {
      this.groups.set(inode, { copied: null, waiting: [] });
      this.copying.set(job.path, inode);
      return { ...job, linked: true };
    }
    if (group.copied !== null) return linkTo(job, group.copied);
    group.waiting.push(job);
    return null;
  }

  /** A file job finished: if it was a first name, returns the jobs its copy releases. */
  settle(job: Job, succeeded: boolean): readonly Job[] {
    // Called for every finished job: the common answer allocates nothing.
    if (this.copying.size === 0 || job.kind !== 'file') return NOTHING_RELEASED;
    const inode = this.copying.get(job.path);
    if (inode === undefined) return NOTHING_RELEASED;
    this.copying.delete(job.path);
    const group = this.groups.get(inode)!;
    if (succeeded) {
      group.copied = job.path;
      return group.waiting.splice(0).map((waiting) => linkTo(waiting, job.path));
    }
    const next = group.waiting.shift();
    if (!next) {
      this.groups.delete(inode);
      return NOTHING_RELEASED;
    }
    this.copying.set(next.path, inode);
    return [{ ...next, linked: true }];
  }
}

function linkTo(job: FileJob, target: RawPath): Job {
  return { kind: 'hardlink', path: job.path, target, ...(job.check && { check: true }) };
}

/** Collects jobs into batches; a large file always travels alone. */
export class Batcher {
  private jobs: Job[] = [];

  constructor(private readonly send: (jobs: Job[]) => void) {}

  add(job: Job): void {
    if (isLargeFile(job)) {
      this.send([job]);
      return;
    }
    this.jobs.push(job);
    if (this.jobs.length >= BATCH_MAX_JOBS) this.flush();
  }

  flush(): void {
    if (this.jobs.length === 0) return;
    const jobs = this.jobs;
    this.jobs = [];
    this.send(jobs);
  }
}
