/**
 * Each entry's fate as an event, for onEntry and the --log file: created,
 * overwritten, skipped (with why), deleted or failed. A listener of the run's
 * events (events.ts), made only when someone listens: an event costs a
 * formatted path per entry. A log that cannot be written stops the run, as a
 * full destination does. Paths leave as lossless text (pathText); making
 * them readable is the CLI's job.
 */
import type { ErrorRecord, Operation } from '../shared/errors.js';
import type { Job, OverwritePolicy } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { CREATED_DIRECTORY, DELETING, jobItem } from '../shared/itemize.js';
import { pathText, type RawPath } from '../shared/raw-path.js';
import type { DirectoryEntry, SpecialEntry } from '../source/entry.js';
import type { EntryLog } from './entry-log.js';
import type { CopyFailure, EntryEvent } from './types.js';

const SKIP_REASONS: Record<OverwritePolicy, string> = {
  changed: 'same size and mtime',
  checksum: 'same content',
  never: 'exists at the destination',
  older: 'not older at the destination',
  always: '',
};
// What the parent does to directories (the walk lists them, it makes them and sets their metadata): a failure it reports without a type is a directory's.
const DIRECTORY_OPERATIONS = new Set<Operation>(['list', 'mkdir', 'set-metadata']);

export interface EntryEventsOptions {
  overwrite: OverwritePolicy;
  /** Events carry rsync's item (EntryEvent.changes) and a link's target. */
  itemize: boolean;
  log: EntryLog | null;
  onEntry: ((event: EntryEvent) => void) | undefined;
  /** The run's stop (the tally's). */
  stop: (error: ErrorRecord) => void;
}

export class EntryEvents {
  private constructor(private readonly options: EntryEventsOptions) {}

  /** Null when nobody listens. */
  static forRun(options: EntryEventsOptions): EntryEvents | null {
    return options.log !== null || options.onEntry !== undefined ? new EntryEvents(options) : null;
  }

  directoryMade(entry: DirectoryEntry): void {
    this.entry({ path: relativeText(entry.path), action: 'create', type: 'directory', ...(this.options.itemize && { changes: CREATED_DIRECTORY }) });
  }

  /** With itemize: a directory that was there, and its item (its owner, mode or time may be set). */
  directoryKept(entry: DirectoryEntry, changes: string): void {
    this.entry({ path: relativeText(entry.path), action: 'skip', type: 'directory', reason: 'exists at the destination', changes });
  }

  /** A job that finished without an error: created, overwritten or skipped. */
  jobDone(job: Job, result: JobResult): void {
    const { outcome, size } = result;
    const event: EntryEvent =
      outcome === 'skipped'
        ? { path: relativeText(job.path), action: 'skip', type: job.kind, reason: this.skipReason(job) }
        : {
            path: relativeText(job.path),
            action: outcome === 'created' ? 'create' : outcome === 'linked' ? 'link' : 'overwrite',
            type: job.kind,
            ...(job.kind === 'file' && { size }),
          };
    if (this.options.itemize) itemized(event, job, result);
    this.entry(event);
  }

  specialFile(entry: SpecialEntry): void {
    this.entry({ path: relativeText(entry.path), action: 'skip', type: 'special', reason: `${entry.specialType}, never opened` });
  }

  deleted(relativePath: RawPath, isDirectory: boolean): void {
    this.entry({ path: relativeText(relativePath), action: 'delete', type: isDirectory ? 'directory' : 'file', ...(this.options.itemize && { changes: DELETING }) });
  }

  /** Relative to the root as every logged path is, also for a failure the parent found by its full path; by that path outside the copy (a log file). */
  failed(failure: CopyFailure, relativePath?: RawPath, type?: EntryEvent['type']): void {
    this.entry({
      path: relativePath === undefined ? (failure.entry ?? failure.path) : relativeText(relativePath),
      action: 'fail',
      type: type ?? (relativePath === undefined && DIRECTORY_OPERATIONS.has(failure.operation) ? 'directory' : 'file'),
      reason: `${failure.message} (${failure.code})`,
    });
  }

  /** The log's last writes; a failure stops the run. */
  close(): void {
    const failure = this.options.log?.close();
    if (failure) this.options.stop(failure);
  }

  private entry(event: EntryEvent): void {
    const { log, onEntry, stop } = this.options;
    const failure = log?.add(event);
    if (failure) stop(failure);
    onEntry?.(event);
  }

  private skipReason(job: Job): string {
    const policy = this.options.overwrite;
    if (policy === 'never' || job.kind === 'file') return SKIP_REASONS[policy];
    return job.kind === 'symlink' ? 'same target' : 'same inode';
  }
}

/** An event's rsync item, and what its link points at: a symlink's text, a second name's first name. */
function itemized(event: EntryEvent, job: Job, result: JobResult): void {
  event.changes = jobItem(job, result);
  if (job.kind === 'hardlink') event.target = relativeText(job.target);
  else if (result.linkText !== undefined) event.target = result.linkText;
}

/** Lossless (pathText): the CLI renders it for people, --log and onEntry give it as it is. */
export function relativeText(relativePath: RawPath): string {
  return relativePath === '' ? '.' : pathText(relativePath);
}
