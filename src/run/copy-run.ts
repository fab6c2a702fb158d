/**
 * One run's sequence, once copyFolder() has refused what it must and prepared
 * the destination: walk → plan → pool → events → delete pass → finish. A part
 * of a planned copy (parts/copy-part.ts) runs the same sequence on its plan's
 * listings instead of the walk's.
 */
import fs from 'node:fs';
import { DestinationDirectories } from '../destination/directories.js';
import { CollisionGuard } from '../destination/name-rules.js';
import { unstage } from '../destination/staging.js';
import { DeletePass } from '../delete/pass.js';
import type { WorkerPool } from '../pool/pool.js';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, RunStopped } from '../shared/errors.js';
import { fsPath, pathText, rawFromString, type RawPath } from '../shared/raw-path.js';
import type { TreeFilter } from '../source/filter.js';
import type { Selection } from '../source/selection.js';
import { inTurns, walk, type Listing, type ListingFilter, type WalkItem } from '../source/walk.js';
import { copyPool } from './copy-pool.js';
import { Census } from './census.js';
import { RunEvents } from './events.js';
import { Planner } from './plan.js';
import type { CopyTarget } from './preflight.js';
import type { PreparedRun } from './prepare.js';
import type { CopyOptions, CopySummary } from './types.js';

// Jobs the parent may hold queued before it pauses the listing; bounds memory on huge trees.
const MAX_BACKLOG_JOBS = 32_768;
// After Ctrl-C, copies in flight get this long to finish before their workers are killed.
const ABORT_GRACE_MS = 500;

/** What a run is made of (copy-folder.ts, parts/copy-part.ts). */
export interface CopyRunParts {
  target: CopyTarget;
  prepared: PreparedRun;
  filter: TreeFilter | null;
  options: CopyOptions;
  selection: Selection | null;
  /** A planned copy's part: what it copies, by directory, parents first (directories and their metadata are left to the plan's finalize). */
  partListings?: Iterable<Listing>;
}

/** One run, in order; the stages it wires do the work. */
export class CopyRun {
  private readonly source: RawPath;
  private readonly halt = new AbortController();
  private readonly halted: Promise<void>;
  /** The totals for the progress, counted ahead of the copy while someone watches it. */
  private readonly census: Census | null;
  /** Where everything that happened is reported: the tally, the progress, the entry events and the manifest listen. */
  private readonly events: RunEvents;
  /** The destination's directories, reached without following symlinks planted during the run. */
  private readonly handles: DirectoryHandles;
  private readonly directories: DestinationDirectories;
  private readonly pool: WorkerPool;
  private readonly planner: Planner;
  /** --delete, or the pruning of an adopted staging directory; null in a run that deletes nothing. */
  private readonly deletePass: DeletePass | null;
  /** Why the delete pass deleted nothing, when it did not. */
  private deletionSkipped: string | undefined;

  private readonly target: CopyTarget;
  private readonly prepared: PreparedRun;
  private readonly filter: TreeFilter | null;
  private readonly options: CopyOptions;
  /** Only these paths (the files option), or the whole tree. */
  private readonly selection: Selection | null;
  /** A planned copy's part: its listings instead of the walk's; null in an ordinary run. */
  private readonly partListings: Iterable<Listing> | null;

  constructor(parts: CopyRunParts) {
    const { target, prepared, filter, options, selection, partListings } = parts;
    this.target = target;
    this.prepared = prepared;
    this.filter = filter;
    this.options = options;
    this.selection = selection;
    this.partListings = partListings ?? null;
    const { resolved, writtenTo } = prepared;
    this.source = rawFromString(target.source);
    this.halted = new Promise((resolve) => this.halt.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.events = RunEvents.forRun({ target, prepared, options, onStop: () => this.halt.abort() });
    this.census =
      options.onProgress && target.kind === 'dir' && this.partListings === null
        ? new Census(
            this.source,
            { filter, selection, oneFileSystem: resolved.oneFileSystem },
            // The census sizes files the copy has queued: a large one goes ahead of the small ones, to be timed early.
            { onCount: (count) => this.events.counted(count), onLarge: (path) => this.pool.promote(path) },
          )
        : null;
    this.handles = new DirectoryHandles(writtenTo);
    this.directories = new DestinationDirectories({
      source: this.source,
      destination: writtenTo,
      handles: this.handles,
      policy: resolved.worker.owners,
      dryRun: resolved.worker.dryRun,
      itemize: resolved.worker.itemize === true,
      ...(prepared.rootBefore && { rootBefore: prepared.rootBefore }),
      rootMade: prepared.staging?.adopted === false,
      // The parts of a planned copy write into the same directories at once: none may sweep another's temporary files.
      sweepsLeftovers: this.partListings === null,
      report: this.events,
    });
    this.deletePass = DeletePass.forRun({
      source: this.source,
      destination: writtenTo,
      handles: this.handles,
      filter,
      resolved,
      staging: prepared.staging,
      directories: this.directories,
    });
    this.planner = new Planner({
      directories: this.directories,
      deletePass: this.deletePass,
      events: this.events,
      writtenTo,
      makeDirectoriesLazily: filter?.hasIncludes === true,
      entriesMayExist: this.partListings !== null,
      // The one forward reference: the planner submits to the pool, which reports back to it.
      submit: (jobs) => this.pool.submit(jobs),
      halt: this.halt.signal,
      recorded: prepared.manifest?.recorded ?? null,
    });
    this.pool = copyPool({
      size: resolved.workers,
      source: this.source,
      destination: writtenTo,
      settings: resolved.worker,
      onJobDone: (job, result) => this.planner.jobDone(job, result),
      onConfirmation: () => this.planner.sendFollowUps(),
      onFileProgress: (job, bytes) => this.events.fileProgress(job, bytes),
    });
  }

  async run(): Promise<CopySummary> {
    const startedAt = performance.now();
    const abort = (): void => this.halt.abort();
    this.options.signal?.addEventListener('abort', abort, { once: true });
    if (this.options.signal?.aborted) abort();
    try {
      if (this.target.kind === 'dir') await this.copyTree();
      else await this.copySingleFile();
      await this.deleteExtraneous();
    } catch (error) {
      if (!(error instanceof RunStopped)) throw error;
      this.events.stop(error.record);
    } finally {
      this.options.signal?.removeEventListener('abort', abort);
      await this.finish();
    }
    const { tally } = this.events;
    return {
      source: this.target.source,
      destination: this.target.destination,
      dryRun: this.prepared.resolved.worker.dryRun,
      ...tally.counts,
      verified: this.prepared.resolved.worker.verify ? tally.verified : undefined,
      specialFiles: tally.specialFiles,
      failures: tally.failures,
      warnings: this.prepared.warnings,
      // Whole milliseconds, as --json gives them: the clock's fractions are noise to a caller.
      durationMs: Math.round(performance.now() - startedAt),
      aborted: this.options.signal?.aborted === true,
      stoppedBy: tally.stoppedBy,
      deletionSkipped: this.deletionSkipped,
    };
  }

  /** The user's filters, then the destination's name rules: a name it would take for another is left out and reported. */
  private listingFilter(): ListingFilter | null {
    return CollisionGuard.around(this.filter, this.prepared.nameRules, this.source, (error, relativePath, isDirectory) =>
      this.events.fail(error, relativePath, isDirectory ? 'directory' : 'file'),
    );
  }

  private async copyTree(): Promise<void> {
    void this.census?.run();
    for await (const item of this.listings()) {
      if (this.halt.signal.aborted) break;
      if (item.kind === 'failure') this.events.fail(item.error);
      else {
        this.census?.takeAccessTime(item.directory);
        this.planner.plan(item);
      }
      if (this.pool.backlog >= MAX_BACKLOG_JOBS) {
        await Promise.race([this.pool.whenBacklogBelow(MAX_BACKLOG_JOBS / 2), this.halted]);
      }
    }
    this.census?.walkDone();
    await this.finishJobs();
  }

  /** The walk's listings, or a part's. */
  private listings(): AsyncIterable<WalkItem> {
    if (this.partListings) return inTurns(this.partListings);
    const { oneFileSystem } = this.prepared.resolved;
    return walk(this.source, { filter: this.listingFilter(), selection: this.selection, oneFileSystem });
  }

  private async copySingleFile(): Promise<void> {
    if (this.halt.signal.aborted) return;
    this.planner.planSingleFile(fs.existsSync(this.target.destination));
    await this.finishJobs();
  }

  /** Everything is listed: send the last partial batch and wait for the pool to finish it all. */
  private async finishJobs(): Promise<void> {
    if (this.halt.signal.aborted) return;
    this.events.listingDone();
    this.planner.listingDone();
    this.pool.listingDone();
    await Promise.race([this.pool.whenIdle(), this.halted]);
  }

  /** The delete pass, once everything was copied (it decides whether to run); then the jobs it held back. */
  private async deleteExtraneous(): Promise<void> {
    const { tally } = this.events;
    if (!this.deletePass || this.halt.signal.aborted) return;
    const { skipped, retry } = this.deletePass.run({ failed: tally.hasFailures, created: tally.counts.created, report: this.events });
    this.deletionSkipped = skipped;
    if (retry.length === 0) return;
    this.events.planned(retry.length);
    this.pool.submit(retry);
    await Promise.race([this.pool.whenIdle(), this.halted]);
  }

  /** Whatever happened: workers gone, directories finalized, the staged copy in place, files closed, the lock released. */
  private async finish(): Promise<void> {
    const { events, prepared } = this;
    this.census?.stop();
    try {
      await this.pool.close(this.halt.signal.aborted ? ABORT_GRACE_MS : 0);
      for (const { job, error } of this.deletePass?.takeBlocked() ?? []) events.heldJobFailed(job, error);
      // A part leaves the directories' metadata to the plan's finalize: other parts still write into them.
      if (!this.partListings) {
        const { failures, losses } = await this.directories.finalize();
        for (const error of failures) events.fail(error);
        for (const lost of losses) events.metadataLost(lost);
      }
      // Before the staged copy moves: descriptors keep nothing after, and no directory is renamed under one.
      this.handles.closeAll();
      if (prepared.staging) this.unstage(prepared.staging.path);
      events.close();
    } finally {
      // Last, once the copy is in place: the next run finds the destination, not a staging directory.
      prepared.lock?.release();
    }
  }

  /** The staged copy becomes the destination, complete or (interrupted, stopped) with whole files only. */
  private unstage(stagingPath: RawPath): void {
    try {
      unstage(stagingPath, rawFromString(this.target.destination));
    } catch (error) {
      // Stopped before the root was made: there is nothing to move.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(fsPath(stagingPath))) return;
      const record = errorRecord(error, 'rename', rawFromString(this.target.destination));
      this.events.stop({ ...record, message: `the copy is in ${pathText(stagingPath)} and could not be renamed: ${record.message}` });
    }
  }
}
