/**
 * What happened, entry by entry, folded into the summary: counts, failures,
 * skipped special files, and the stop rule (a destination-wide fault stops the
 * run once instead of failing every later file). Each entry's fate also goes
 * to onEntry and the --log file. No I/O of its own beyond that log. Paths
 * leave as lossless text (pathText); making them readable is the CLI's job.
 */
import type { ErrorRecord, Operation } from '../shared/errors.js';
import type { Job, OverwritePolicy } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { joinRaw, pathText, type RawPath } from '../shared/raw-path.js';
import { LOSSES } from '../shared/xattrs.js';
import type { DirectoryEntry, SpecialEntry } from '../source/entry.js';
import type { EntryLog } from './entry-log.js';
import type { CopyFailure, CopySkip, CopySummary, EntryEvent, MetadataNotKept } from './types.js';

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
const EVENT_TYPES: Record<Job['kind'], EntryEvent['type']> = { file: 'file', symlink: 'symlink', hardlink: 'hardlink' };
// What the parent does to directories (the walk lists them, it makes them and sets their metadata): a failure it reports without a type is a directory's.
const DIRECTORY_OPERATIONS = new Set<Operation>(['list', 'mkdir', 'set-metadata']);

export type Counts = Pick<
  CopySummary,
  'files' | 'directories' | 'symlinks' | 'hardLinks' | 'bytes' | 'created' | 'overwritten' | 'skipped' | 'deleted' | 'metadataNotKept'
>;

export interface TallyOptions {
  source: RawPath;
  /** Where entries are written, and the place the user asked for: they differ while a first copy is staged. */
  writtenTo: RawPath;
  destination: RawPath;
  overwrite: OverwritePolicy;
  log: EntryLog | null;
  onFailure: ((failure: CopyFailure) => void) | undefined;
  onSkip: ((skip: CopySkip) => void) | undefined;
  onEntry: ((event: EntryEvent) => void) | undefined;
  /** The run must stop: called once, with the first destination-wide fault. */
  onStop: () => void;
}

export class Tally {
  readonly counts: Counts = {
    files: 0,
    directories: 0,
    symlinks: 0,
    hardLinks: 0,
    bytes: 0,
    created: 0,
    overwritten: 0,
    skipped: 0,
    deleted: 0,
    metadataNotKept: Object.fromEntries(LOSSES.map(({ key }) => [key, 0])) as MetadataNotKept,
  };
  readonly failures: CopyFailure[] = [];
  readonly specialFiles: CopySkip[] = [];
  stoppedBy: CopyFailure | undefined;
  /** Only when someone listens: an event costs a formatted path per entry. */
  private readonly entryEvents: boolean;

  constructor(private readonly options: TallyOptions) {
    this.entryEvents = options.log !== null || options.onEntry !== undefined;
  }

  /** Something went wrong before or beside the copy: nothing counts as done after this. */
  get hasFailures(): boolean {
    return this.failures.length > 0 || this.stoppedBy !== undefined;
  }

  directoryMade(entry: DirectoryEntry): void {
    this.counts.directories++;
    this.counts.created++;
    if (this.entryEvents) this.entry({ path: relativeText(entry.path), action: 'create', type: 'directory' });
  }

  /** A finished job (never one handed back). */
  jobDone(job: Job, result: JobResult): void {
    const type = EVENT_TYPES[job.kind];
    if (result.lost) this.metadataLost(result.lost);
    if (result.error) {
      this.fail(result.error, job.path, type);
      return;
    }
    if (result.outcome === 'skipped') {
      this.counts.skipped++;
      if (this.entryEvents) this.entry({ path: relativeText(job.path), action: 'skip', type, reason: this.skipReason(job) });
      return;
    }
    if (result.outcome === 'created') this.counts.created++;
    else this.counts.overwritten++;
    if (job.kind === 'file') {
      this.counts.files++;
      this.counts.bytes += result.size;
    } else if (job.kind === 'symlink') this.counts.symlinks++;
    else this.counts.hardLinks++;
    if (this.entryEvents) {
      this.entry({
        path: relativeText(job.path),
        action: result.outcome === 'created' ? 'create' : 'overwrite',
        type,
        ...(job.kind === 'file' && { size: result.size }),
      });
    }
  }

  specialFile(entry: SpecialEntry): void {
    const skip = { path: pathText(joinRaw(this.options.source, entry.path)), reason: entry.specialType };
    this.specialFiles.push(skip);
    this.options.onSkip?.(skip);
    this.entry({ path: relativeText(entry.path), action: 'skip', type: 'special', reason: `${skip.reason}, never opened` });
  }

  deleted(relativePath: RawPath, isDirectory: boolean, counted: boolean): void {
    if (counted) this.counts.deleted++;
    this.entry({ path: relativeText(relativePath), action: 'delete', type: isDirectory ? 'directory' : 'file' });
  }

  /** An entry copied without some of its metadata (LOST_* bits): counted, not a failure. */
  metadataLost(bits: number): void {
    for (const { bit, key } of LOSSES) if (bits & bit) this.counts.metadataNotKept[key]++;
  }

  /** An entry failure, or (a destination-wide fault) the run's stop. */
  fail(record: ErrorRecord, relativePath?: RawPath, type?: EntryEvent['type']): void {
    const failure = this.shown(record);
    if (DESTINATION_FATAL_CODES.has(record.code) && !SOURCE_OPERATIONS.has(record.operation)) {
      // Every file in flight fails the same way after the first: one stop, reported once.
      this.stop(record);
      return;
    }
    this.failures.push(failure);
    this.options.onFailure?.(failure);
    // Relative to the root as every logged path is, also for a failure the parent found by its full path.
    const relative = relativePath ?? this.entryOf(record.path);
    this.entry({
      path: relative === undefined ? failure.path : relativeText(relative),
      action: 'fail',
      type: type ?? (relativePath === undefined && DIRECTORY_OPERATIONS.has(record.operation) ? 'directory' : 'file'),
      reason: `${failure.message} (${failure.code})`,
    });
  }

  /** A run stop: the first one is the one reported. */
  stop(record: ErrorRecord): void {
    if (this.stoppedBy) return;
    this.stoppedBy = this.shown(record);
    this.options.onStop();
  }

  /** Inside a staged copy, name the place the user asked for; an entry of the copy is named relative to its root too. */
  private shown(record: ErrorRecord): CopyFailure {
    const { writtenTo, destination } = this.options;
    const inside = writtenTo !== destination && (record.path === writtenTo || record.path.startsWith(`${writtenTo}/`));
    const path = inside ? destination + record.path.slice(writtenTo.length) : record.path;
    const entry = this.entryOf(record.path);
    return { path: pathText(path), ...(entry !== undefined && { entry: relativeText(entry) }), code: record.code, operation: record.operation, message: record.message };
  }

  /** A full path below the source or the destination, relative to its root ('' for the root); undefined for any other (a log file). */
  private entryOf(fullPath: RawPath): RawPath | undefined {
    const { source, writtenTo, destination } = this.options;
    for (const root of [source, writtenTo, destination]) {
      if (fullPath === root) return '';
      const prefix = root.endsWith('/') ? root : `${root}/`;
      if (fullPath.startsWith(prefix)) return fullPath.slice(prefix.length);
    }
    return undefined;
  }

  private entry(event: EntryEvent): void {
    this.options.log?.add(event);
    this.options.onEntry?.(event);
  }

  private skipReason(job: Job): string {
    const policy = this.options.overwrite;
    if (policy === 'never' || job.kind === 'file') return SKIP_REASONS[policy];
    return job.kind === 'symlink' ? 'same target' : 'same inode';
  }
}

/** Lossless (pathText): the CLI renders it for people, --log and onEntry give it as it is. */
function relativeText(relativePath: RawPath): string {
  return relativePath === '' ? '.' : pathText(relativePath);
}
