/**
 * What happened, folded into the summary: counts, failures, skipped special
 * files, and the stop rule (a destination-wide fault stops the run once instead
 * of failing every later file). A listener of the run's events (events.ts); no
 * I/O. Paths leave as lossless text (pathText); making them readable is the CLI's job.
 */
import type { ErrorRecord, Operation } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { joinRaw, pathText, type RawPath } from '../shared/raw-path.js';
import { LOSSES } from '../shared/xattrs.js';
import type { SpecialEntry } from '../source/entry.js';
import { relativeText } from './entry-events.js';
import type { CopyFailure, CopySkip, CopySummary, MetadataNotKept, VerifiedCount } from './types.js';

// On the destination side these hit every later file too: stop instead of failing each one.
const DESTINATION_FATAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);
const SOURCE_OPERATIONS = new Set<Operation>(['list', 'stat', 'read']);
export type Counts = Pick<
  CopySummary,
  'files' | 'directories' | 'symlinks' | 'hardLinks' | 'bytes' | 'created' | 'linked' | 'overwritten' | 'skipped' | 'deleted' | 'backedUp' | 'metadataNotKept'
>;

export interface TallyOptions {
  source: RawPath;
  /** Where entries are written, and the place the user asked for: they differ while a first copy is staged. */
  writtenTo: RawPath;
  destination: RawPath;
  onFailure: ((failure: CopyFailure) => void) | undefined;
  onSkip: ((skip: CopySkip) => void) | undefined;
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
    linked: 0,
    overwritten: 0,
    skipped: 0,
    deleted: 0,
    backedUp: 0,
    metadataNotKept: Object.fromEntries(LOSSES.map(({ key }) => [key, 0])) as MetadataNotKept,
  };
  /** Counted whatever the run's settings: without verify, no result says it was verified. */
  readonly verified: VerifiedCount = { files: 0, throughCache: 0, unchanged: 0 };
  readonly failures: CopyFailure[] = [];
  readonly specialFiles: CopySkip[] = [];
  stoppedBy: CopyFailure | undefined;

  constructor(private readonly options: TallyOptions) {}

  /** Something went wrong before or beside the copy: nothing counts as done after this. */
  get hasFailures(): boolean {
    return this.failures.length > 0 || this.stoppedBy !== undefined;
  }

  directoryMade(): void {
    this.counts.directories++;
    this.counts.created++;
  }

  /** A job that finished without an error (a failed one is a fail()). */
  jobDone(job: Job, { outcome, size, verified, backedUp }: JobResult): void {
    if (backedUp) this.counts.backedUp++;
    if (verified) {
      this.verified.files++;
      if (verified === 'cache') this.verified.throughCache++;
      else if (verified === 'record') this.verified.unchanged++;
    }
    if (outcome === 'skipped') {
      this.counts.skipped++;
      return;
    }
    if (outcome === 'linked') {
      // An entry of the copy, made without writing a byte: created, and counted apart from the files written.
      this.counts.created++;
      this.counts.linked++;
      return;
    }
    if (outcome === 'created') this.counts.created++;
    else this.counts.overwritten++;
    if (job.kind === 'file') {
      this.counts.files++;
      this.counts.bytes += size;
    } else if (job.kind === 'symlink') this.counts.symlinks++;
    else this.counts.hardLinks++;
  }

  specialFile(entry: SpecialEntry): void {
    const skip = { path: pathText(joinRaw(this.options.source, entry.path)), reason: entry.specialType };
    this.specialFiles.push(skip);
    this.options.onSkip?.(skip);
  }

  /** --backup kept a deleted entry aside. */
  backedUp(): void {
    this.counts.backedUp++;
  }

  deleted(counted: boolean): void {
    if (counted) this.counts.deleted++;
  }

  /** An entry copied without some of its metadata (LOST_* bits): counted, not a failure. */
  metadataLost(bits: number): void {
    for (const { bit, key } of LOSSES) if (bits & bit) this.counts.metadataNotKept[key]++;
  }

  /** An entry failure, returned as shown; or (a destination-wide fault) the run's stop, and undefined. */
  fail(record: ErrorRecord): CopyFailure | undefined {
    if (DESTINATION_FATAL_CODES.has(record.code) && !SOURCE_OPERATIONS.has(record.operation)) {
      // Every file in flight fails the same way after the first: one stop, reported once.
      this.stop(record);
      return undefined;
    }
    const failure = this.shown(record);
    this.failures.push(failure);
    this.options.onFailure?.(failure);
    return failure;
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
}
