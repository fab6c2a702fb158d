/**
 * What happened, on one path: the planner, the destination's directories, the
 * pool's finished jobs, the delete pass and the run itself report here, and
 * this hands each event to those that keep it: the tally (counts, failures,
 * the stop rule), the entry events (onEntry and the --log file), the progress
 * and the manifest. A fixed set, called directly: a finished job is reported
 * once per file, and costs no more than the calls it makes.
 */
import path from 'node:path';
import type { DirectoryOutcome, DirectoryReport } from '../destination/directories.js';
import type { DeletionReport } from '../delete/pass.js';
import type { ErrorRecord } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { rawFromString, type RawPath } from '../shared/raw-path.js';
import type { DirectoryEntry, SpecialEntry } from '../source/entry.js';
import type { CensusCount } from './census.js';
import { EntryEvents } from './entry-events.js';
import type { Manifest } from './manifest.js';
import type { CopyTarget } from './preflight.js';
import type { PreparedRun } from './prepare.js';
import { Progress } from './progress.js';
import { Tally } from './tally.js';
import type { CopyOptions, EntryEvent } from './types.js';

export interface RunEventsOptions {
  tally: Tally;
  progress: Progress;
  /** Null when nobody listens for entry events. */
  entries: EntryEvents | null;
  manifest: Manifest | null;
  /** The manifest's name for the one job of a single-file copy (named ''): the destination's own name. */
  singleFileName: RawPath;
}

/** What a run's events and their listeners are made of. */
export interface RunEventsFor {
  target: CopyTarget;
  prepared: PreparedRun;
  options: CopyOptions;
  /** The run must stop: called once, with the first reason. */
  onStop: () => void;
}

export class RunEvents implements DirectoryReport, DeletionReport {
  /** The summary's counts and failures: read, never reported to, by the run. */
  readonly tally: Tally;
  private readonly progress: Progress;
  private readonly entries: EntryEvents | null;
  private readonly manifest: Manifest | null;
  private readonly singleFileName: RawPath;

  constructor(options: RunEventsOptions) {
    ({ tally: this.tally, progress: this.progress, entries: this.entries, manifest: this.manifest, singleFileName: this.singleFileName } = options);
  }

  /** A run's events, with its tally, progress, entry events and manifest listening. */
  static forRun({ target, prepared, options, onStop }: RunEventsFor): RunEvents {
    const tally = new Tally({
      source: rawFromString(target.source),
      writtenTo: prepared.writtenTo,
      destination: rawFromString(target.destination),
      onFailure: options.onFailure,
      onSkip: options.onSkip,
      onStop,
    });
    return new RunEvents({
      tally,
      progress: new Progress(options.onProgress),
      entries: EntryEvents.forRun({
        overwrite: prepared.resolved.worker.overwrite,
        itemize: prepared.resolved.worker.itemize === true,
        log: prepared.log,
        onEntry: options.onEntry,
        stop: (error) => tally.stop(error),
      }),
      manifest: prepared.manifest,
      singleFileName: rawFromString(path.basename(target.destination)),
    });
  }

  /** Jobs submitted: the progress's total grows. */
  planned(jobs = 1): void {
    this.progress.planned(jobs);
  }

  /** The copy's own walk is done: the progress's total is exact. */
  listingDone(): void {
    this.progress.listingDone();
  }

  /** The census's count of the whole tree. */
  counted(count: CensusCount): void {
    this.progress.counted(count);
  }

  /** Bytes a worker has written of a file so far. */
  fileProgress(job: Job, bytes: number): void {
    this.progress.fileProgress(job, bytes);
  }

  /** A large file, sent alone, whose size a worker found. */
  sized(job: Job, size: number): void {
    this.progress.sized(job, size);
  }

  /** A listed directory, made or found (with itemize, found with its item); one that cannot be made fails, and the root's failure stops the run: every entry would fail the same way. */
  directory(entry: DirectoryEntry, outcome: DirectoryOutcome, item?: string): void {
    if (outcome === 'existing') {
      if (item !== undefined) this.entries?.directoryKept(entry, item);
      return;
    }
    if (outcome !== 'created') {
      if (entry.path === '') this.stop(outcome);
      else this.fail(outcome, entry.path, 'directory');
      return;
    }
    this.tally.directoryMade();
    this.entries?.directoryMade(entry);
  }

  /** A finished job (never one handed back). */
  jobDone(job: Job, result: JobResult): void {
    this.jobFinished(job, result);
    const { error, lost, digest } = result;
    if (lost) this.tally.metadataLost(lost);
    if (error) this.fail(error, job.path, job.kind);
    else {
      this.tally.jobDone(job, result);
      this.entries?.jobDone(job, result);
    }
    if (digest) {
      // A manifest that cannot be written stops the run, as a full destination does.
      const failure = this.manifest?.add(job.path === '' ? this.singleFileName : job.path, digest, result.state && { path: job.path, state: result.state });
      if (failure) this.stop(failure);
    }
  }

  /** A job the delete pass holds back (a directory is in its way): finished for the progress, counted once it runs again or fails for good. */
  jobHeld(job: Job, result: JobResult): void {
    this.jobFinished(job, result);
  }

  /** A held-back job whose way the delete pass did not clear. */
  heldJobFailed(job: Job, error: ErrorRecord): void {
    this.fail(error, job.path, job.kind);
  }

  specialFile(entry: SpecialEntry): void {
    this.tally.specialFile(entry);
    this.entries?.specialFile(entry);
  }

  deleted(relativePath: RawPath, isDirectory: boolean, counted: boolean, keptAside: boolean): void {
    this.tally.deleted(counted);
    if (keptAside) this.tally.backedUp();
    this.entries?.deleted(relativePath, isDirectory);
  }

  /** An entry copied without some of its metadata (LOST_* bits). */
  metadataLost(bits: number): void {
    this.tally.metadataLost(bits);
  }

  /** An entry failure, or (a destination-wide fault) the run's stop. */
  fail(record: ErrorRecord, relativePath?: RawPath, type?: EntryEvent['type']): void {
    const failure = this.tally.fail(record);
    if (failure) this.entries?.failed(failure, relativePath, type);
  }

  /** The run must stop: the first reason is the one reported. */
  stop(record: ErrorRecord): void {
    this.tally.stop(record);
  }

  /** The run is over: the last progress snapshot; the manifest and the log get their last writes (and the manifest its name), and a failure stops the run. */
  close(): void {
    this.progress.emit();
    const failure = this.manifest?.close();
    if (failure) this.stop(failure);
    this.entries?.close();
  }

  /** The run stopped: nothing more is worth reporting per entry. */
  get stopped(): boolean {
    return this.tally.stoppedBy !== undefined;
  }

  private jobFinished(job: Job, { outcome, size }: JobResult): void {
    const written = outcome === 'created' || outcome === 'overwritten';
    this.progress.finished(job, size, written ? size : 0);
  }
}
