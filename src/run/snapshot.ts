/**
 * --snapshot [snapshot, keep]: `foldercopy --snapshot SRC BACKUPS` makes
 * BACKUPS/<UTC time> (snapshot-names.ts), a full copy of SRC in which every file
 * the newest complete snapshot holds unchanged is a hard link to it (linkDest),
 * so a snapshot costs only what changed. The copy is made under a hidden name
 * (`.<name>.foldercopy-snapshot`) and renamed to its name only when it is
 * complete: every entry copied, nothing failed, not interrupted or stopped. Then
 * BACKUPS/latest, a symlink, is swapped to it atomically (a new symlink renamed
 * over it), and with keep the oldest complete snapshots beyond that many are
 * removed (each renamed to a hidden name first, so one removed halfway never
 * passes for a snapshot). A run that is not complete publishes nothing, moves
 * nothing and removes nothing: its copy stays under the hidden name, which the
 * summary names, and the earlier snapshots and latest stay as they were.
 *
 * The whole run holds BACKUPS's lock (`.BACKUPS.foldercopy-lock` beside it), so
 * two snapshot runs into one directory never overlap: the second is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DestinationLock } from '../destination/lock.js';
import { errorRecord, FoldercopyError, refusal, type Operation } from '../shared/errors.js';
import { expiredSnapshotNameFor, snapshotWorkNameFor, tempPathFor } from '../shared/names-on-disk.js';
import { pathText, rawFromString } from '../shared/raw-path.js';
import { preflight } from './preflight.js';
import { expiredSnapshots, freeSnapshotName, isSnapshotName, oldestFirst, snapshotStamp } from './snapshot-names.js';
import type { CopyFailure, CopyOptions, CopySummary, CopyWarning, SnapshotReport } from './types.js';

/** One copy without the snapshot option: copyFolder's own run. */
type Copy = (source: string, destination: string, options: CopyOptions) => Promise<CopySummary>;

const LATEST = 'latest';

export async function takeSnapshot(source: string, backups: string | undefined, options: CopyOptions, copy: Copy): Promise<CopySummary> {
  checkSnapshotOptions(backups, options);
  const target = preflight(source, backups);
  if (target.kind !== 'dir') throw new FoldercopyError('USAGE', `the snapshot option needs a source directory, not a file: ${target.source}`, target.source);
  const directory = target.destination;
  const dryRun = options.dryRun === true;
  const warnings: CopyWarning[] = [];
  const lock = dryRun ? null : lockSnapshots(directory, (warning) => (warnings.push(warning), options.onWarning?.(warning)));
  try {
    const entries = listed(directory);
    checkLatest(directory, entries);
    const complete = oldestFirst(entries.filter((name) => isSnapshotName(name) && isRealDirectory(path.join(directory, name))));
    const previous = complete.at(-1);
    const name = freeSnapshotName(snapshotStamp(new Date()), new Set(entries.flatMap((entry) => [entry, workName(entry)])));
    const work = path.join(directory, snapshotWorkNameFor(name));
    // Absolute: a relative linkDest is relative to the destination, here the snapshot's work directory.
    const linkDest = [...(previous === undefined ? [] : [path.resolve(directory, previous)]), ...(options.linkDest ?? [])];
    const { snapshot: _snapshot, keep, ...rest } = options;
    const summary = await copy(source, work, { ...rest, ...(linkDest.length > 0 && { linkDest }) });
    summary.warnings.unshift(...warnings);
    const report: SnapshotReport = {
      path: path.join(directory, name),
      complete: false,
      linkedAgainst: previous === undefined ? null : path.join(directory, previous),
      removed: [],
    };
    summary.snapshot = report;
    if (dryRun || !isComplete(summary)) {
      if (!dryRun) summary.destination = work;
      return summary;
    }
    summary.destination = report.path;
    const published = publish({ directory, name, work, summary, options });
    if (!published) {
      summary.destination = work;
      return summary;
    }
    report.complete = true;
    if (keep !== undefined) report.removed = removeExpired(directory, expiredSnapshots(complete, name, keep), summary, options);
    return summary;
  } finally {
    lock?.release();
  }
}

function checkSnapshotOptions(backups: string | undefined, options: CopyOptions): void {
  if (backups === undefined) throw new FoldercopyError('USAGE', 'the snapshot option needs a destination: the directory that holds the snapshots');
  if (options.delete === true) throw new FoldercopyError('USAGE', 'the snapshot option makes a new directory each run: the delete option would have nothing to delete');
  if (options.files !== undefined) throw new FoldercopyError('USAGE', 'the snapshot option copies a whole source directory: a file list would make a partial snapshot');
}

/** Checks keep's value (the library's callers may not use TypeScript): a whole number from 1, with snapshot only. */
export function checkKeep(options: CopyOptions): void {
  const { keep } = options;
  if (keep === undefined) return;
  if (options.snapshot !== true) throw new FoldercopyError('USAGE', 'the keep option needs the snapshot option');
  if (!Number.isInteger(keep) || keep < 1) throw new FoldercopyError('USAGE', `the keep option must be a whole number from 1 (the snapshot just made is always kept), got ${String(keep)}`);
}

function lockSnapshots(directory: string, warn: (warning: CopyWarning) => void): DestinationLock | null {
  try {
    fs.mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot create the directory of snapshots', directory, error);
  }
  return DestinationLock.take({
    destination: rawFromString(fs.realpathSync(directory)),
    shownDestination: directory,
    onTakeOver: (message, lockPath) => warn({ code: 'STALE_LOCK', message, path: pathText(lockPath) }),
  });
}

function listed(directory: string): string[] {
  try {
    return fs.readdirSync(directory);
  } catch (error) {
    // A dry run's directory of snapshots may not exist yet.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw refusal('DESTINATION_INVALID', 'cannot list the directory of snapshots', directory, error);
  }
}

/** `latest` is ours to replace only when it is a symlink (or absent): a directory or file there is the user's. */
function checkLatest(directory: string, entries: readonly string[]): void {
  if (!entries.includes(LATEST)) return;
  const latest = path.join(directory, LATEST);
  if (!fs.lstatSync(latest).isSymbolicLink()) {
    throw new FoldercopyError('DESTINATION_INVALID', `${latest} is not a symlink: the snapshot option points it at the newest snapshot; move it away first`, latest);
  }
}

/** A snapshot's work name for an entry that is one (so a name is free only when neither form is taken). */
function workName(entry: string): string {
  const match = /^\.(.*)\.foldercopy-snapshot$/s.exec(entry);
  return match ? match[1]! : entry;
}

function isRealDirectory(entry: string): boolean {
  return fs.lstatSync(entry, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** Every entry copied: the only kind of run whose snapshot is published. */
function isComplete(summary: CopySummary): boolean {
  return summary.failures.length === 0 && !summary.aborted && summary.stoppedBy === undefined;
}

/** The complete copy under its name, then latest swapped to it; a failure stops the run (the copy stays where it is). */
function publish({ directory, name, work, summary, options }: { directory: string; name: string; work: string; summary: CopySummary; options: CopyOptions }): boolean {
  const final = path.join(directory, name);
  try {
    // The name was free under the lock; a directory planted there since is not replaced (rename fails on a non-empty one).
    if (fs.existsSync(final)) throw Object.assign(new Error('something is already at that name'), { code: 'EEXIST' });
    fs.renameSync(work, final);
  } catch (error) {
    summary.stoppedBy = failure(error, 'rename', final);
    return false;
  }
  const latest = path.join(directory, LATEST);
  const temporary = tempPathFor(latest, process.pid);
  try {
    fs.rmSync(temporary, { force: true });
    fs.symlinkSync(name, temporary);
    fs.renameSync(temporary, latest);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    failed(summary, options, failure(error, 'link', latest));
  }
  return true;
}

/** Removes the expired snapshots, each renamed first; one that cannot be removed is a failure, and the rest still go. */
function removeExpired(directory: string, expired: readonly string[], summary: CopySummary, options: CopyOptions): string[] {
  const removed: string[] = [];
  for (const name of expired) {
    const hidden = path.join(directory, expiredSnapshotNameFor(name));
    try {
      fs.renameSync(path.join(directory, name), hidden);
      fs.rmSync(hidden, { recursive: true });
      removed.push(path.join(directory, name));
    } catch (error) {
      failed(summary, options, failure(error, 'delete', path.join(directory, name)));
    }
  }
  return removed;
}

function failure(error: unknown, operation: Operation, where: string): CopyFailure {
  const { code, message } = errorRecord(error, operation, rawFromString(where));
  return { path: where, code, operation, message };
}

/** A failure after the copy, told as the copy's were. */
function failed(summary: CopySummary, options: CopyOptions, record: CopyFailure): void {
  summary.failures.push(record);
  options.onFailure?.(record);
}
