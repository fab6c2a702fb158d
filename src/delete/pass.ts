/**
 * --delete: after a successful copy, removes what the destination holds and the
 * source no longer does. Only directories the walk went through are compared,
 * name by name against the source's listing (extraneous.ts), so an excluded
 * directory (never listed) is never looked into, and an excluded name inside a
 * listed one is kept. A directory standing where the source now has a file is
 * deleted too, and the file, held back until then, is copied after it.
 *
 * The pass keeps what it needs from the run, and exists only in a run that
 * deletes (--delete, or the pruning of a staging directory adopted from a killed
 * run): the directories listed, whether anything was, and the jobs it holds back.
 * It decides whether to run: never after a failure, never on an empty listing,
 * never in a fresh copy; and after the copy it deletes nothing when more than
 * half of the entries the destination had would go (the rule, and the refusals
 * made before the copy, are in refusals.ts).
 */
import type { ErrorRecord } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { joinRaw, type RawPath } from '../shared/raw-path.js';
import type { TreeFilter } from '../source/filter.js';
import type { DestinationDirectories } from '../destination/directories.js';
import type { Staging } from '../destination/staging.js';
import type { ResolvedOptions } from '../run/options.js';
import { deleteEntry, findExtraneous, sourceListing } from './extraneous.js';
import { deletionLimit } from './refusals.js';

export interface DeletePassOptions {
  source: RawPath;
  /** Where entries are written: the destination, or its staging directory. */
  destination: RawPath;
  /** The destination's directories, reached without following symlinks. */
  handles: DirectoryHandles;
  filter: TreeFilter | null;
  resolved: ResolvedOptions;
  staging: Staging | null;
  /** Told when the pass lists the destination's directories: a listing can move their atimes. */
  directories: DestinationDirectories;
}

/** Where the pass reports what it did (the run's events). */
export interface DeletionReport {
  fail(error: ErrorRecord, relativePath?: RawPath): void;
  /** `keptAside`: --backup kept it first. */
  deleted(relativePath: RawPath, isDirectory: boolean, counted: boolean, keptAside: boolean): void;
}

/** What the run tells the pass once everything was copied. */
export interface CopyOutcome {
  /** Some entry failed to copy. */
  failed: boolean;
  /** Entries this run created at the destination: the guard weighs deletions against what the destination held before the copy. */
  created: number;
  report: DeletionReport;
}

/** Why the pass deleted nothing (undefined when it ran, or had no reason to), and the held-back jobs that can run now that their way is clear. */
export interface DeletePassResult {
  skipped: string | undefined;
  retry: Job[];
}

export class DeletePass {
  /** Every source directory the walk went through, parents first: where the pass compares. */
  private readonly listedDirectories: RawPath[] = [];
  /** Entries listed, the root aside: nothing is deleted when the source had none to copy. */
  private listedEntries = 0;
  /** Entries whose name a directory still holds at the destination; they wait for run(). */
  private readonly blocked: Job[] = [];
  private retrying = false;
  /**
   * 'mirror': --delete onto an existing destination, with every rule; 'prune': an adopted staging directory, which
   * becomes a copy of what the source has now whatever failed; 'never': a fresh copy, which holds only what the source has.
   */
  private readonly when: 'mirror' | 'prune' | 'never';
  private readonly maxDelete: number | undefined;

  private constructor(private readonly options: DeletePassOptions) {
    const { staging, resolved } = options;
    this.when = !staging ? 'mirror' : staging.adopted ? 'prune' : 'never';
    // Pruning without --delete has no limit: what a killed run copied is never the user's to keep.
    this.maxDelete = resolved.delete ? resolved.maxDelete : Number.POSITIVE_INFINITY;
  }

  /** Null in a run that deletes nothing, which keeps no listing state at all. */
  static forRun(options: DeletePassOptions): DeletePass | null {
    return options.resolved.delete || options.staging?.adopted ? new DeletePass(options) : null;
  }

  /**
   * The planner made or deferred a directory holding `entries` entries; nothing is kept in a fresh copy, never compared.
   * `compared` false: a mount point --one-file-system did not enter, whose copy's contents are left alone, as rsync -x leaves them.
   */
  listed(directory: RawPath, entries: number, compared: boolean): void {
    if (this.when === 'never') return;
    if (compared) this.listedDirectories.push(directory);
    this.listedEntries += entries + (directory === '' ? 0 : 1);
  }

  /** Holds back a job whose rename met a directory; false for any other failure, and once the pass has run. */
  holds(job: Job, error: ErrorRecord): boolean {
    if (this.retrying || error.code !== 'EISDIR' || error.operation !== 'rename') return false;
    this.blocked.push(job);
    return true;
  }

  /** Once everything was copied (and the run not stopped): deletes, or says why not. Never past maxDelete. */
  run({ failed, created, report }: CopyOutcome): DeletePassResult {
    if (this.when === 'never') return { skipped: undefined, retry: [] };
    if (this.when === 'mirror') {
      if (failed) return { skipped: 'some entries failed to copy', retry: [] };
      if (this.listedEntries === 0) return { skipped: 'the source has nothing to copy', retry: [] };
    }
    const { source, destination, handles, filter, resolved } = this.options;
    const { dryRun } = resolved.worker;
    const { maxDelete } = this;
    this.options.directories.listedAgain();
    const blockedPaths = this.blocked.map((job) => job.path);
    const tree = { destination, handles, filter, backup: resolved.worker.backup, keptFromDelete: resolved.keptFromDelete };
    const { deletions, failures, seen } = findExtraneous(sourceListing(source), tree, this.listedDirectories, blockedPaths);
    for (const failure of failures) report.fail(failure);
    if (failures.length > 0) return { skipped: 'the destination could not be fully listed', retry: [] };
    const existing = Math.max(seen - (dryRun ? 0 : created), deletions.length);
    const skipped = deletionLimit(deletions.length, existing, maxDelete);
    const tooMany = skipped !== undefined;
    // A dry run still lists what would go, even past the limit.
    if (skipped && !dryRun) return { skipped, retry: [] };
    for (const deletion of deletions) {
      const done = dryRun ? { keptAside: false } : deleteEntry(tree, deletion);
      // --shard: another shard's run, into the same destination, put its entries in since the listing; the last one empties it.
      if ('error' in done && done.error.code === 'ENOTEMPTY' && filter?.shard) continue;
      if ('error' in done) report.fail(done.error, deletion.path);
      else report.deleted(deletion.path, deletion.isDirectory, !tooMany, done.keptAside);
    }
    if (skipped) return { skipped, retry: [] };
    this.retrying = true;
    return { skipped: undefined, retry: this.blocked.splice(0) };
  }

  /** Whatever stopped run() from clearing their way: these entries failed after all. */
  takeBlocked(): Array<{ job: Job; error: ErrorRecord }> {
    return this.blocked.splice(0).map((job) => ({
      job,
      error: { code: 'EISDIR', message: 'a directory is in the way, and the delete option did not run', operation: 'rename', path: joinRaw(this.options.destination, job.path) },
    }));
  }
}
