/**
 * copyFolder(): the library entry point the CLI is a thin layer over.
 * Data flow: preflight → walk (entries) → plan (the parent makes directories,
 * batches jobs) → pool (workers copy) → progress → summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DestinationDirectories } from './dirs.js';
import { FoldercopyError } from './errors.js';
import { resolveJobs } from './options.js';
import { Batcher, fileJob, HardLinks, symlinkJob, type OwnerPolicy } from './plan.js';
import { WorkerPool } from './pool.js';
import { preflight, type CopyTarget } from './preflight.js';
import { Progress, type CopyProgress } from './progress.js';
import type { ErrorRecord, Job, Operation } from './protocol.js';
import { displayPath, joinRaw, rawFromString, type RawPath } from './raw-path.js';
import { entryFromStats, type Entry } from './entry.js';
import type { WalkFailure } from './walk.js';

export interface CopyOptions {
  /** Worker processes; defaults to os.availableParallelism(). */
  jobs?: number;
  /** Stops dispatching; copies in flight finish or are removed; resolves with a partial summary. */
  signal?: AbortSignal;
  /** Called at most 10 times a second, and once at the end. */
  onProgress?: (progress: CopyProgress) => void;
  /** Called as each entry fails; the copy goes on. */
  onFailure?: (failure: CopyFailure) => void;
  /** Called for each special file (FIFO, socket, device), which is never opened. */
  onSkip?: (skip: CopySkip) => void;
}

export interface CopyFailure {
  path: string;
  /** The system's code (EACCES, ENOENT, …) or one of foldercopy's (WORKER_CRASHED, …). */
  code: string;
  operation: Operation;
  message: string;
}

export interface CopySkip {
  path: string;
  reason: string;
}

export interface CopySummary {
  source: string;
  destination: string;
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  bytes: number;
  skipped: CopySkip[];
  failures: CopyFailure[];
  durationMs: number;
  /** The signal was aborted: the copy is partial. */
  aborted: boolean;
  /** A failure that stopped the whole copy, such as a full or read-only destination. */
  stoppedBy: CopyFailure | undefined;
}

export type { CopyProgress };

// Jobs the parent may hold queued before it pauses the listing; bounds memory on huge trees.
const MAX_BACKLOG_JOBS = 32_768;
// After Ctrl-C, copies in flight get this long to finish before their workers are killed.
const ABORT_GRACE_MS = 500;
// On the destination side these hit every later file too: stop instead of failing each one.
const DESTINATION_FATAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);
const SOURCE_OPERATIONS = new Set<Operation>(['list', 'stat', 'read']);

/** Copies the contents of `source` into `destination` (default: `<source>_copy` beside it). */
export async function copyFolder(source: string, destination?: string, options: CopyOptions = {}): Promise<CopySummary> {
  const jobs = resolveJobs(options.jobs);
  const target = preflight(source, destination);
  return new CopyRun(target, jobs, options).run();
}

class CopyRun {
  private readonly source: RawPath;
  private readonly destination: RawPath;
  private readonly policy: OwnerPolicy;
  private readonly progress: Progress;
  private readonly pool: WorkerPool;
  private readonly batcher: Batcher;
  private readonly dirs: DestinationDirectories;
  private readonly hardLinks = new HardLinks();
  private readonly halt = new AbortController();
  private readonly halted: Promise<void>;
  private readonly counts = { files: 0, directories: 0, symlinks: 0, hardLinks: 0, bytes: 0 };
  private readonly failures: CopyFailure[] = [];
  private readonly skipped: CopySkip[] = [];
  private stoppedBy: CopyFailure | undefined;

  constructor(
    private readonly target: CopyTarget,
    jobs: number,
    private readonly options: CopyOptions,
  ) {
    this.source = rawFromString(target.source);
    this.destination = rawFromString(target.destination);
    this.policy = ownerPolicy(target.existingAncestor);
    this.progress = new Progress(options.onProgress);
    this.halted = new Promise((resolve) => this.halt.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.pool = new WorkerPool({
      size: jobs,
      source: this.source,
      destination: this.destination,
      onJobDone: (job, error) => this.onJobDone(job, error),
      onFileProgress: (job, bytes) => this.progress.fileProgress(job, bytes),
    });
    this.batcher = new Batcher((batch) => this.pool.submit(batch));
    this.dirs = new DestinationDirectories(this.destination, this.policy);
  }

  async run(): Promise<CopySummary> {
    const startedAt = performance.now();
    const abort = (): void => this.halt.abort();
    this.options.signal?.addEventListener('abort', abort, { once: true });
    if (this.options.signal?.aborted) abort();
    try {
      if (!this.halt.signal.aborted) {
        this.makeParents();
        if (this.target.kind === 'dir') await this.copyTree();
        else await this.copySingleFile();
      }
    } catch (error) {
      if (!(error instanceof FoldercopyError)) throw error;
      this.stoppedBy ??= { path: this.target.source, code: error.code, operation: 'worker', message: error.message };
    } finally {
      this.options.signal?.removeEventListener('abort', abort);
      await this.pool.close(this.halt.signal.aborted ? ABORT_GRACE_MS : 0);
      for (const error of this.dirs.finalize()) this.fail(error);
      this.progress.emit();
    }
    return {
      source: this.target.source,
      destination: this.target.destination,
      ...this.counts,
      skipped: this.skipped,
      failures: this.failures,
      durationMs: performance.now() - startedAt,
      aborted: this.options.signal?.aborted === true,
      stoppedBy: this.stoppedBy,
    };
  }

  private makeParents(): void {
    const parent = path.dirname(this.target.destination);
    if (this.target.existingAncestor === this.target.destination || this.target.existingAncestor === parent) return;
    try {
      fs.mkdirSync(parent, { recursive: true });
    } catch (error) {
      throw new FoldercopyError('DESTINATION_INVALID', `cannot create ${parent}: ${(error as Error).message}`, parent, { cause: error });
    }
  }

  private async copyTree(): Promise<void> {
    // Loading fast-glob takes ~35 ms; importing it here overlaps that with the first worker's start-up.
    const { walk } = await import('./walk.js');
    for await (const item of walk(this.source)) {
      if (this.halt.signal.aborted) break;
      this.plan(item);
      if (this.pool.backlog >= MAX_BACKLOG_JOBS) {
        await Promise.race([this.pool.whenBacklogBelow(MAX_BACKLOG_JOBS / 2), this.halted]);
      }
    }
    await this.finishJobs();
  }

  private async copySingleFile(): Promise<void> {
    const entry = entryFromStats('', fs.statSync(this.target.source, { bigint: true }));
    this.submit(fileJob(entry, this.policy));
    await this.finishJobs();
  }

  /** Everything is listed: send the last partial batch and wait for the pool to finish it all. */
  private async finishJobs(): Promise<void> {
    if (this.halt.signal.aborted) return;
    this.progress.listingDone();
    this.batcher.flush();
    await Promise.race([this.pool.whenIdle(), this.halted]);
  }

  private plan(item: Entry | WalkFailure): void {
    if (item.kind === 'failure') {
      this.fail(item.error);
      return;
    }
    if (this.dirs.isBeneathBroken(item.path)) {
      this.fail({
        code: 'ENOENT',
        message: 'its directory could not be created',
        operation: 'write',
        path: joinRaw(this.destination, item.path),
      });
      return;
    }
    switch (item.kind) {
      case 'dir': {
        const error = this.dirs.make(item);
        if (error) this.fail(error);
        else this.counts.directories++;
        return;
      }
      case 'special': {
        const skip = { path: displayPath(joinRaw(this.source, item.path)), reason: item.specialType ?? 'special file' };
        this.skipped.push(skip);
        this.options.onSkip?.(skip);
        return;
      }
      case 'symlink':
        this.submit(symlinkJob(item, this.policy));
        return;
      case 'file': {
        const job = item.inode === undefined ? fileJob(item, this.policy) : this.hardLinks.add({ ...item, inode: item.inode }, this.policy);
        if (job) this.submit(job);
        return;
      }
    }
  }

  private submit(job: Job): void {
    this.progress.planned(job);
    this.batcher.add(job);
  }

  private onJobDone(job: Job, error: ErrorRecord | null): void {
    this.progress.finished(job);
    if (error) this.fail(error);
    else if (job.kind === 'file') {
      this.counts.files++;
      this.counts.bytes += job.size;
    } else if (job.kind === 'symlink') this.counts.symlinks++;
    else this.counts.hardLinks++;
    const released = this.hardLinks.settle(job, error === null, this.policy);
    if (released.length > 0 && !this.halt.signal.aborted) {
      for (const next of released) this.progress.planned(next);
      this.pool.submit([...released]);
    }
  }

  private fail(record: ErrorRecord): void {
    const failure: CopyFailure = {
      path: displayPath(record.path),
      code: record.code,
      operation: record.operation,
      message: record.message,
    };
    if (DESTINATION_FATAL_CODES.has(record.code) && !SOURCE_OPERATIONS.has(record.operation)) {
      // Every file in flight fails the same way after the first: one stop, reported once.
      this.stoppedBy ??= failure;
      this.halt.abort();
      return;
    }
    this.failures.push(failure);
    this.options.onFailure?.(failure);
  }
}

/** Only root can give files away, so only root keeps owners, as `cp -a` does. */
function ownerPolicy(existingAncestor: string): OwnerPolicy {
  const uid = process.geteuid?.();
  const gid = process.getegid?.();
  if (uid !== 0 || gid === undefined) return { preserve: false, uid: -1, gid: -1, groupInherited: false };
  // New entries under a set-group-ID directory take its group, not ours.
  const groupInherited = (fs.statSync(existingAncestor).mode & 0o2000) !== 0;
  return { preserve: true, uid, gid, groupInherited };
}
