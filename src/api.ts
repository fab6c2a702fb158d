/**
 * copyFolder(): the library entry point the CLI is a thin layer over.
 * Data flow: preflight → walk (a listing per directory) → plan (the parent makes directories,
 * batches jobs) → pool (workers stat and copy, and hand back what the parent must
 * schedule: hard links, large files) → progress → summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DestinationDirectories, type DirectoryOutcome } from './dirs.js';
import { EntryLog, type EntryEvent } from './entry-log.js';
import { FoldercopyError } from './errors.js';
import type { TreeFilter } from './filter.js';
import { Manifest } from './manifest.js';
import { deleteEntry, findExtraneous } from './mirror.js';
import { resolveRunOptions, type RunOptions } from './options.js';
import { Batcher, HardLinks } from './plan.js';
import { WorkerPool, type JobReport } from './pool.js';
import { stage, unstage, type Staging } from './staging.js';
import { preflight, type CopyTarget } from './preflight.js';
import { Progress, type CopyProgress } from './progress.js';
import { errorRecord, LARGE_FILE_BYTES, OUTCOME, type ErrorRecord, type FileJob, type Job, type Operation, type OverwritePolicy, type Outcome } from './protocol.js';
import { displayPath, fsPath, joinRaw, rawFromString, type RawPath } from './raw-path.js';
import type { DirectoryEntry, SpecialEntry } from './entry.js';
import type { Listing } from './walk.js';

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
  /** Called for each entry created, overwritten, skipped (special files included), deleted or failed. */
  onEntry?: (event: EntryEvent) => void;
  /** Globs (picomatch) of entries not to copy; a name without a slash matches at any depth. */
  exclude?: string[];
  /** Globs: when given, only files and symlinks matching one are copied. */
  include?: string[];
  /** Honour .gitignore files at every level of the source. */
  gitignore?: boolean;
  /** When an entry is already at the destination: 'changed' (default), 'checksum', 'never', 'older' or 'always'. */
  overwrite?: OverwritePolicy;
  /** Report what would be created, overwritten, skipped and deleted; change nothing. */
  dryRun?: boolean;
  /** Re-read every written file and compare its SHA-256 with the source's; a mismatch is a failure. */
  verify?: boolean;
  /** Write the SHA-256 of every file in the copy to this file, in `sha256sum` format. */
  manifest?: string;
  /** Write one JSON line per entry to this file. */
  log?: string;
  /** Remove destination entries that are not in the source (excluded ones are kept), after a successful copy. */
  delete?: boolean;
  /** With delete: delete nothing if more than this many entries would go. */
  maxDelete?: number;
}

export interface CopyFailure {
  path: string;
  /** The system's code (EACCES, ENOENT, …) or one of foldercopy's (WORKER_CRASHED, EVERIFY, …). */
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
  dryRun: boolean;
  /** Entries written (in a dry run: that would be), by kind; directories count when created. */
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  /** Bytes of the files written. */
  bytes: number;
  /** Entries of any kind that were not at the destination. */
  created: number;
  /** Entries that replaced a different one at the destination. */
  overwritten: number;
  /** Entries left as they were: up to date, or kept by the overwrite policy. */
  skipped: number;
  /** Entries removed by delete. */
  deleted: number;
  /** FIFOs, sockets and devices: never opened, never copied. */
  specialFiles: CopySkip[];
  failures: CopyFailure[];
  durationMs: number;
  /** The signal was aborted: the copy is partial. */
  aborted: boolean;
  /** A failure that stopped the whole copy, such as a full or read-only destination. */
  stoppedBy: CopyFailure | undefined;
  /** Why delete removed nothing (failures during the copy, or maxDelete); undefined otherwise. */
  deletionSkipped: string | undefined;
}

export type { CopyProgress, EntryEvent, OverwritePolicy };

// Jobs the parent may hold queued before it pauses the listing; bounds memory on huge trees.
const MAX_BACKLOG_JOBS = 32_768;
// After Ctrl-C, copies in flight get this long to finish before their workers are killed.
const ABORT_GRACE_MS = 500;
// On the destination side these hit every later file too: stop instead of failing each one.
const DESTINATION_FATAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);
const SOURCE_OPERATIONS = new Set<Operation>(['list', 'stat', 'read']);
const SKIP_REASONS: Record<OverwritePolicy, string> = {
  changed: 'same size and mtime',
  checksum: 'same content',
  never: 'exists at the destination',
  older: 'not older at the destination',
  always: '',
};
const ACTIONS: Record<Exclude<Outcome, 'd'>, EntryEvent['action']> = { c: 'create', o: 'overwrite', s: 'skip', f: 'fail' };
const EVENT_TYPES: Record<Job['kind'], EntryEvent['type']> = { file: 'file', symlink: 'symlink', hardlink: 'hardlink' };

/** Copies the contents of `source` into `destination` (default: `<source>_copy` beside it). */
export async function copyFolder(source: string, destination?: string, options: CopyOptions = {}): Promise<CopySummary> {
  const target = preflight(source, destination);
  const run = resolveRunOptions(options, target);
  const filter = target.kind === 'dir' ? await loadFilter(rawFromString(target.source), options) : null;
  return new CopyRun(target, run, filter, options).run();
}

/** The matchers load only when asked for: their ~15 ms would count against every small copy. */
async function loadFilter(root: RawPath, options: CopyOptions): Promise<TreeFilter | null> {
  if (!options.exclude?.length && !options.include?.length && !options.gitignore) return null;
  const { TreeFilter } = await import('./filter.js');
  return TreeFilter.create(root, options);
}

class CopyRun {
  private readonly source: RawPath;
  /** Where entries are written: the destination, or the staging directory of a first copy. */
  private readonly destination: RawPath;
  private readonly finalDestination: RawPath;
  private readonly staging: Staging | null;
  private readonly settings: RunOptions;
  private readonly log: EntryLog | null;
  private readonly manifest: Manifest | null;
  private readonly onEntry: ((event: EntryEvent) => void) | null;
  private readonly progress: Progress;
  private readonly pool: WorkerPool;
  private readonly batcher: Batcher;
  /** Jobs that finished jobs release or hand back, batched anew after each confirmation. */
  private readonly followUps: Batcher;
  private readonly dirs: DestinationDirectories;
  private readonly hardLinks = new HardLinks();
  private readonly halt = new AbortController();
  private readonly halted: Promise<void>;
  private readonly counts = {
    files: 0,
    directories: 0,
    symlinks: 0,
    hardLinks: 0,
    bytes: 0,
    created: 0,
    overwritten: 0,
    skipped: 0,
    deleted: 0,
  };
  private readonly failures: CopyFailure[] = [];
  /** With delete: entries whose name a directory still holds at the destination; they wait for mirror(). */
  private readonly blockedByDirectory: Job[] = [];
  private retryingBlocked = false;
  private readonly specialFiles: CopySkip[] = [];
  private stoppedBy: CopyFailure | undefined;
  private deletionSkipped: string | undefined;
  private listedEntries = 0;

  constructor(
    private readonly target: CopyTarget,
    settings: RunOptions,
    private readonly filter: TreeFilter | null,
    private readonly options: CopyOptions,
  ) {
    this.source = rawFromString(target.source);
    this.finalDestination = rawFromString(target.destination);
    this.staging = settings.worker.staged ? stage(this.finalDestination) : null;
    // What a killed run left may be incomplete: only a check of every entry can tell, whatever the policy.
    if (this.staging?.adopted && (settings.worker.overwrite === 'never' || settings.worker.overwrite === 'older')) {
      settings = { ...settings, worker: { ...settings.worker, overwrite: 'changed' } };
    }
    this.settings = settings;
    this.destination = this.staging?.path ?? this.finalDestination;
    this.log = settings.log === undefined ? null : new EntryLog(settings.log);
    this.manifest = settings.manifest === undefined ? null : new Manifest(settings.manifest);
    this.onEntry = this.log || options.onEntry ? (event) => this.reportEntry(event) : null;
    this.progress = new Progress(options.onProgress);
    this.halted = new Promise((resolve) => this.halt.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.pool = new WorkerPool({
      size: settings.jobs,
      source: this.source,
      destination: this.destination,
      settings: settings.worker,
      onJobDone: (job, report) => this.onJobDone(job, report),
      onConfirmation: () => this.followUps.flush(),
      onFileProgress: (job, bytes) => this.progress.fileProgress(job, bytes),
    });
    this.batcher = new Batcher((batch) => this.pool.submit(batch));
    this.followUps = new Batcher((batch) => this.pool.submit(batch));
    this.dirs = new DestinationDirectories(this.destination, settings.worker.owners, settings.worker.dryRun, (entry, outcome) =>
      this.onDirectory(entry, outcome),
    );
  }

  async run(): Promise<CopySummary> {
    const startedAt = performance.now();
    const abort = (): void => this.halt.abort();
    this.options.signal?.addEventListener('abort', abort, { once: true });
    if (this.options.signal?.aborted) abort();
    try {
      if (!this.halt.signal.aborted) {
        if (!this.settings.worker.dryRun) this.makeParents();
        if (this.target.kind === 'dir') await this.copyTree();
        else await this.copySingleFile();
        if (this.settings.delete) await this.mirror();
      }
    } catch (error) {
      if (!(error instanceof FoldercopyError)) throw error;
      this.stoppedBy ??= { path: this.target.source, code: error.code, operation: 'worker', message: error.message };
    } finally {
      this.options.signal?.removeEventListener('abort', abort);
      await this.pool.close(this.halt.signal.aborted ? ABORT_GRACE_MS : 0);
      this.failBlocked();
      for (const error of this.dirs.finalize()) this.fail(error);
      if (this.staging) this.unstage(this.staging);
      this.progress.emit();
      this.manifest?.close();
      this.log?.close();
    }
    return {
      source: this.target.source,
      destination: this.target.destination,
      dryRun: this.settings.worker.dryRun,
      ...this.counts,
      specialFiles: this.specialFiles,
      failures: this.failures,
      durationMs: performance.now() - startedAt,
      aborted: this.options.signal?.aborted === true,
      stoppedBy: this.stoppedBy,
      deletionSkipped: this.deletionSkipped,
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
    for await (const item of walk(this.source, this.filter)) {
      if (this.halt.signal.aborted) break;
      if (item.kind === 'failure') this.fail(item.error);
      else this.plan(item);
      if (this.pool.backlog >= MAX_BACKLOG_JOBS) {
        await Promise.race([this.pool.whenBacklogBelow(MAX_BACKLOG_JOBS / 2), this.halted]);
      }
    }
    await this.finishJobs();
  }

  private async copySingleFile(): Promise<void> {
    const job: FileJob = { kind: 'file', path: '' };
    if (fs.existsSync(this.target.destination)) job.check = true;
    this.progress.planned();
    this.batcher.add(job);
    await this.finishJobs();
  }

  /** Everything is listed: send the last partial batch and wait for the pool to finish it all. */
  private async finishJobs(): Promise<void> {
    if (this.halt.signal.aborted) return;
    this.progress.listingDone();
    this.batcher.flush();
    await Promise.race([this.pool.whenIdle(), this.halted]);
  }

  /** Makes (or defers) the directory and batches a job for each file and symlink in it. */
  private plan({ directory, entries }: Listing): void {
    this.listedEntries += entries.length + (directory.path === '' ? 0 : 1);
    if (this.dirs.isBeneathBroken(directory.path)) {
      this.failUnwritable(directory.path);
      for (const entry of entries) this.failUnwritable(entry.path);
      return;
    }
    // With --include, a directory is made only once something is copied into it.
    if (this.filter?.hasIncludes && directory.path !== '') this.dirs.defer(directory);
    else this.dirs.make(directory);
    if (entries.length === 0) return;
    // All entries share the directory: what holds for the first holds for them all.
    const first = entries[0]!.path;
    this.dirs.ensureParentsOf(first);
    if (this.dirs.isBeneathBroken(first)) {
      for (const entry of entries) this.failUnwritable(entry.path);
      return;
    }
    const check = this.dirs.mayHoldEntryFor(first);
    let jobs = 0;
    for (const entry of entries) {
      if (entry.kind === 'special') {
        this.skipSpecial(entry);
        continue;
      }
      const job: Job = { kind: entry.kind, path: entry.path };
      if (check) job.check = true;
      this.batcher.add(job);
      jobs++;
    }
    this.progress.planned(jobs);
  }

  private failUnwritable(relativePath: RawPath): void {
    this.fail({ code: 'ENOENT', message: 'its directory could not be created', operation: 'write', path: joinRaw(this.destination, relativePath) });
  }

  private skipSpecial(entry: SpecialEntry): void {
    const skip = { path: displayPath(joinRaw(this.source, entry.path)), reason: entry.specialType };
    this.specialFiles.push(skip);
    this.options.onSkip?.(skip);
    this.onEntry?.({ path: relativeDisplay(entry.path), action: 'skip', type: 'special', reason: `${skip.reason}, never opened` });
  }

  private onDirectory(entry: DirectoryEntry, outcome: DirectoryOutcome): void {
    if (outcome === 'existing') return;
    if (outcome === 'created') {
      this.counts.directories++;
      this.counts.created++;
      this.onEntry?.({ path: relativeDisplay(entry.path), action: 'create', type: 'directory' });
      return;
    }
    this.fail(outcome, entry.path, 'directory');
  }

  private onJobDone(job: Job, report: JobReport): void {
    const { outcome, size, error, digest } = report;
    if (outcome === OUTCOME.deferred) {
      this.reschedule(job, report);
      return;
    }
    const written = outcome === OUTCOME.created || outcome === OUTCOME.overwritten;
    this.progress.finished(job, written ? size : 0);
    if (error && this.settings.delete && error.code === 'EISDIR' && error.operation === 'rename' && !this.retryingBlocked) {
      // A directory where the source now has a file: mirror() deletes it, then this job runs again.
      this.blockedByDirectory.push(job);
    } else if (error) this.fail(error, job.path, EVENT_TYPES[job.kind]);
    else if (outcome === OUTCOME.skipped) {
      this.counts.skipped++;
      this.onEntry?.({ path: relativeDisplay(job.path), action: 'skip', type: EVENT_TYPES[job.kind], reason: skipReason(job, this.settings.worker.overwrite) });
    } else {
      if (outcome === OUTCOME.created) this.counts.created++;
      else this.counts.overwritten++;
      if (job.kind === 'file') {
        this.counts.files++;
        this.counts.bytes += size;
      } else if (job.kind === 'symlink') this.counts.symlinks++;
      else this.counts.hardLinks++;
      this.onEntry?.({
        path: relativeDisplay(job.path),
        action: ACTIONS[outcome as Exclude<Outcome, 'd'>],
        type: EVENT_TYPES[job.kind],
        ...(job.kind === 'file' && { size }),
      });
    }
    if (digest) this.manifest?.add(job.path === '' ? rawFromString(path.basename(this.target.destination)) : job.path, digest);
    // Released jobs carry their own check: it was decided when their name was listed.
    const released = this.hardLinks.settle(job, error === null);
    if (!this.halt.signal.aborted) for (const next of released) this.followUps.add(next);
  }

  /** A job its worker handed back: one name of a file with several, a large file to send alone, or the rest of a long batch. */
  private reschedule(job: Job, { size, inode }: JobReport): void {
    if (this.halt.signal.aborted) return;
    if (job.kind === 'file' && inode !== undefined) {
      const next = this.hardLinks.add(job, inode);
      if (next) this.followUps.add(next);
      return;
    }
    if (job.kind === 'file' && size >= LARGE_FILE_BYTES && !job.large) {
      const large: FileJob = { ...job, large: true };
      this.progress.sized(large, size);
      this.followUps.add(large);
      return;
    }
    this.followUps.add(job);
  }

  /**
   * --delete, once everything was copied: never after a failure, never past maxDelete.
   * Directories standing where the source now has a file go too, and those files are then copied.
   */
  private async mirror(): Promise<void> {
    if (this.halt.signal.aborted) return;
    if (this.failures.length > 0 || this.stoppedBy) {
      this.deletionSkipped = 'some entries failed to copy';
      return;
    }
    if (this.listedEntries === 0) {
      this.deletionSkipped = 'the source has nothing to copy';
      return;
    }
    // A first copy holds only what the source has.
    if (this.staging && !this.staging.adopted) return;
    const { deletions, failures } = findExtraneous(
      this.source,
      this.destination,
      this.dirs.listedDirectories(),
      this.blockedByDirectory.map((job) => job.path),
      this.filter,
    );
    for (const failure of failures) this.fail(failure);
    if (failures.length > 0) {
      this.deletionSkipped = 'the destination could not be fully listed';
      return;
    }
    const { maxDelete, worker } = this.settings;
    const tooMany = maxDelete !== undefined && deletions.length > maxDelete;
    if (tooMany) {
      this.deletionSkipped = `${deletions.length} entries would be deleted, more than --max-delete ${maxDelete}`;
      if (!worker.dryRun) return;
    }
    for (const deletion of deletions) {
      const error = worker.dryRun ? null : deleteEntry(this.destination, deletion);
      if (error) {
        this.fail(error, deletion.path);
        continue;
      }
      if (!tooMany) this.counts.deleted++;
      this.onEntry?.({ path: relativeDisplay(deletion.path), action: 'delete', type: deletion.isDirectory ? 'directory' : 'file' });
    }
    if (this.blockedByDirectory.length === 0 || tooMany) return;
    const blocked = this.blockedByDirectory.splice(0);
    this.retryingBlocked = true;
    this.progress.planned(blocked.length);
    this.pool.submit(blocked);
    await Promise.race([this.pool.whenIdle(), this.halted]);
  }

  /** Whatever stopped mirror() from deleting the directories in their way: these entries failed after all. */
  private failBlocked(): void {
    for (const job of this.blockedByDirectory.splice(0)) {
      this.fail(
        { code: 'EISDIR', message: 'a directory is in the way, and --delete did not run', operation: 'rename', path: joinRaw(this.destination, job.path) },
        job.path,
        EVENT_TYPES[job.kind],
      );
    }
  }

  /** The staged copy becomes the destination, complete or (interrupted, stopped) with whole files only. */
  private unstage(staging: Staging): void {
    try {
      unstage(staging, this.finalDestination);
    } catch (error) {
      // Stopped before the root was made: there is nothing to move.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(fsPath(staging.path))) return;
      const where = displayPath(staging.path);
      this.stoppedBy ??= {
        path: this.target.destination,
        code: (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN',
        operation: 'rename',
        message: `the copy is in ${where} and could not be renamed: ${errorRecord(error, 'rename', staging.path).message}`,
      };
    }
  }

  private fail(record: ErrorRecord, relativePath?: RawPath, type: EntryEvent['type'] = 'file'): void {
    const failure: CopyFailure = {
      // Inside a staged copy, name the place the user asked for.
      path: displayPath(this.staging && record.path.startsWith(this.staging.path) ? this.finalDestination + record.path.slice(this.staging.path.length) : record.path),
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
    this.onEntry?.({
      path: relativePath === undefined ? failure.path : relativeDisplay(relativePath),
      action: 'fail',
      type,
      reason: `${failure.message} (${failure.code})`,
    });
  }

  private reportEntry(event: EntryEvent): void {
    this.log?.add(event);
    this.options.onEntry?.(event);
  }
}

function skipReason(job: Job, policy: OverwritePolicy): string {
  if (policy === 'never' || job.kind === 'file') return SKIP_REASONS[policy];
  return job.kind === 'symlink' ? 'same target' : 'same inode';
}

function relativeDisplay(relativePath: RawPath): string {
  return relativePath === '' ? '.' : displayPath(relativePath);
}
