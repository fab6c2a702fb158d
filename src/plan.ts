/**
 * Turns listed entries into jobs and jobs into batches. Pure bookkeeping, no I/O:
 * the parent decides here what each worker will do.
 */
import type { FileJob, Job, Owner } from './protocol.js';
import { isLargeFile } from './protocol.js';
import type { RawPath } from './raw-path.js';
import type { Entry } from './entry.js';

// Many small files per message keeps IPC far below one message per file;
// bytes bound the time one batch holds a worker (and a crash's re-run).
export const BATCH_MAX_JOBS = 256;
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

/** Decides, once per run, whose files need their owner set (only root can give files away). */
export interface OwnerPolicy {
  preserve: boolean;
  /** Our own ids: a file we create already has them, unless the directory hands down its group. */
  uid: number;
  gid: number;
  groupInherited: boolean;
}

export function ownerFor(entry: Pick<Entry, 'uid' | 'gid'>, policy: OwnerPolicy): Owner | undefined {
  if (!policy.preserve) return undefined;
  if (entry.uid === policy.uid && entry.gid === policy.gid && !policy.groupInherited) return undefined;
  return { uid: entry.uid, gid: entry.gid };
}

export function fileJob(entry: Entry, policy: OwnerPolicy): FileJob {
  const job: FileJob = {
    kind: 'file',
    path: entry.path,
    size: entry.size,
    mode: entry.mode,
    atime: entry.atime,
    mtime: entry.mtime,
  };
  const owner = ownerFor(entry, policy);
  if (owner) job.owner = owner;
  if (entry.sparse) job.sparse = true;
  return job;
}

export function symlinkJob(entry: Entry, policy: OwnerPolicy): Job {
  const owner = ownerFor(entry, policy);
  return { kind: 'symlink', path: entry.path, atime: entry.atime, mtime: entry.mtime, ...(owner && { owner }) };
}

/**
 * Files that share an inode in the source share one in the copy. The first name
 * is copied; the others wait for it and become links to the copy. If the first
 * copy fails, the next name is copied in its place.
 */
const NOTHING_RELEASED: readonly Job[] = Object.freeze([]);

export class HardLinks {
  private readonly groups = new Map<string, { copied: RawPath | null; waiting: Entry[] }>();
  /** First names being copied now, by path, with their inode. */
  private readonly copying = new Map<RawPath, string>();

  /** The job to run now for this entry, or null when it must wait for the first name's copy. */
  add(entry: Entry & { inode: string }, policy: OwnerPolicy): Job | null {
    const group = this.groups.get(entry.inode);
    if (!group) {
      this.groups.set(entry.inode, { copied: null, waiting: [] });
      this.copying.set(entry.path, entry.inode);
      return fileJob(entry, policy);
    }
    if (group.copied !== null) return { kind: 'hardlink', path: entry.path, target: group.copied };
    group.waiting.push(entry);
    return null;
  }

  /** A file job finished: if it was a first name, returns the jobs its copy releases. */
  settle(job: Job, succeeded: boolean, policy: OwnerPolicy): readonly Job[] {
    // Called for every finished job: the common answer allocates nothing.
    if (this.copying.size === 0 || job.kind !== 'file') return NOTHING_RELEASED;
    const inode = this.copying.get(job.path);
    if (inode === undefined) return NOTHING_RELEASED;
    this.copying.delete(job.path);
    const group = this.groups.get(inode)!;
    if (succeeded) {
      group.copied = job.path;
      return group.waiting.splice(0).map((entry) => ({ kind: 'hardlink', path: entry.path, target: job.path }));
    }
    const next = group.waiting.shift();
    if (!next) {
      this.groups.delete(inode);
      return NOTHING_RELEASED;
    }
    this.copying.set(next.path, inode);
    return [fileJob(next, policy)];
  }
}

/** Collects jobs into batches by count and bytes; a large file always travels alone. */
export class Batcher {
  private jobs: Job[] = [];
  private bytes = 0;

  constructor(private readonly send: (jobs: Job[]) => void) {}

  add(job: Job): void {
    if (job.kind === 'file') {
      if (isLargeFile(job)) {
        this.send([job]);
        return;
      }
      this.bytes += job.size;
    }
    this.jobs.push(job);
    if (this.jobs.length >= BATCH_MAX_JOBS || this.bytes >= BATCH_MAX_BYTES) this.flush();
  }

  get size(): number {
    return this.jobs.length;
  }

  flush(): void {
    if (this.jobs.length === 0) return;
    const jobs = this.jobs;
    this.jobs = [];
    this.bytes = 0;
    this.send(jobs);
  }
}
