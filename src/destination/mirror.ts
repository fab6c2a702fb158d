/**
 * --delete: after a successful copy, removes what the destination holds and the
 * source no longer does. Only directories the walk went through are compared,
 * name by name against the source's listing, so an excluded directory (never
 * listed) is never looked into, and an excluded name inside a listed one is kept.
 * A directory standing where the source now has a file is deleted too, and the
 * file, held back until then, is copied after it.
 *
 * A guard against the cp habit `foldercopy photos backups/ --delete`, which would
 * mirror photos' contents onto backups/ and delete every other backup there: unless
 * maxDelete is given, a run is refused before anything is copied when the
 * destination's top level holds entries of which none is in the source, or more
 * than half of them are not (checkDeleteTarget); and after the copy, the pass
 * deletes nothing when more than half of the entries the destination had would go.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorRecord, FoldercopyError, type ErrorRecord } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { childPath, fsPath, joinRaw, pathText, rawFromBytes, type RawPath } from '../shared/raw-path.js';
import { isOurName } from '../shared/names-on-disk.js';
import type { TreeFilter } from '../source/filter.js';
import { looksLikeEarlierCopy } from './overwrite-guard.js';

export interface DeletePassOptions {
  source: RawPath;
  destination: RawPath;
  /** The destination's directories, reached without following symlinks. */
  handles: DirectoryHandles;
  filter: TreeFilter | null;
  maxDelete: number | undefined;
  dryRun: boolean;
}

/** The destination's top level against the source's: the names it holds (ours and excluded ones left out), and those the source lacks. */
export interface TopLevelComparison {
  names: RawPath[];
  extraneous: RawPath[];
}

/** Undefined when the destination is not a directory (nothing there yet, or a file). */
export function compareTopLevel(source: RawPath, destination: RawPath, filter: TreeFilter | null): TopLevelComparison | undefined {
  let atDestination: fs.Dirent<Buffer>[];
  let inSource: Set<RawPath>;
  try {
    atDestination = fs.readdirSync(fsPath(destination), { encoding: 'buffer', withFileTypes: true });
    inSource = new Set(fs.readdirSync(fsPath(source), { encoding: 'buffer' }).map(rawFromBytes));
  } catch {
    return undefined;
  }
  const names: RawPath[] = [];
  const extraneous: RawPath[] = [];
  for (const dirent of atDestination) {
    const name = rawFromBytes(dirent.name);
    if (isOurName(name) || filter?.excludes(name, dirent.isDirectory())) continue;
    names.push(name);
    if (!inSource.has(name)) extraneous.push(name);
  }
  return { names, extraneous };
}

/** The guard's rule: something there, and none of it, or more than half of it, would stay. */
export function tooMuchToDelete(existing: number, deletions: number): boolean {
  return existing > 0 && deletions > 0 && (deletions === existing || deletions * 2 > existing);
}

/**
 * Before anything is copied, with delete and no maxDelete: refuses a destination
 * whose top level holds nothing the source has, or mostly what it lacks. `shown`:
 * the source and destination as the user named them.
 */
export function checkDeleteTarget(source: RawPath, destination: RawPath, filter: TreeFilter | null, shown: { source: string; destination: string }): void {
  const top = compareTopLevel(source, destination, filter);
  if (!top || !tooMuchToDelete(top.names.length, top.extraneous.length)) return;
  const { names, extraneous } = top;
  const listed = extraneous.slice(0, 3).map(pathText).join(', ') + (extraneous.length > 3 ? ', …' : '');
  const deleting = `refusing the delete option: it would delete ${extraneous.length} of the ${names.length} ${names.length === 1 ? 'entry' : 'entries'} at the top of ${shown.destination} (${listed})`;
  // A mirror whose source lost most of its entries since: the advice is to allow it, not to name another folder.
  if (looksLikeEarlierCopy(source, destination, filter)) {
    throw new FoldercopyError(
      'DELETE_REFUSED',
      `${deleting}, which the source no longer has; ${shown.destination} looks like an earlier copy of ${shown.source}: ` +
        `to delete them, allow it with the maxDelete option set to ${extraneous.length}`,
      shown.destination,
    );
  }
  const which = extraneous.length === names.length ? `none of which is in the source` : `which the source does not have`;
  const itself = path.join(shown.destination, path.basename(shown.source));
  throw new FoldercopyError(
    'DELETE_REFUSED',
    `${deleting}, ${which}; to copy the folder itself, use ${itself}; to mirror anyway, give the maxDelete option`,
    shown.destination,
  );
}

/** Where the pass reports what it did (the run's tally). */
export interface DeletionReport {
  fail(error: ErrorRecord, relativePath?: RawPath): void;
  deleted(relativePath: RawPath, isDirectory: boolean, counted: boolean): void;
}

/** Why the pass deleted nothing, or the held-back jobs that can run now that their way is clear. */
export type DeletePassResult = { skipped: string } | { retry: Job[] };

export class DeletePass {
  /** Entries whose name a directory still holds at the destination; they wait for run(). */
  private readonly blocked: Job[] = [];
  private retrying = false;

  constructor(private readonly options: DeletePassOptions) {}

  /** Holds back a job whose rename met a directory; false for any other failure, and once the pass has run. */
  holds(job: Job, error: ErrorRecord): boolean {
    if (this.retrying || error.code !== 'EISDIR' || error.operation !== 'rename') return false;
    this.blocked.push(job);
    return true;
  }

  /** `directories`: every source directory the walk went through, parents first. Never past maxDelete. */
  /**
   * `created`: entries this run created at the destination, so that the guard
   * weighs deletions against what the destination held before the copy.
   */
  run(directories: readonly RawPath[], report: DeletionReport, created = 0): DeletePassResult {
    const { source, destination, handles, filter, maxDelete, dryRun } = this.options;
    const blockedPaths = this.blocked.map((job) => job.path);
    const tree = { destination, handles, filter };
    const { deletions, failures, seen } = findExtraneous(source, tree, directories, blockedPaths);
    for (const failure of failures) report.fail(failure);
    if (failures.length > 0) return { skipped: 'the destination could not be fully listed' };
    const existing = Math.max(seen - created, deletions.length);
    let skipped: string | undefined;
    if (maxDelete !== undefined && deletions.length > maxDelete) {
      skipped = `${deletions.length} entries would be deleted, more than the maxDelete option allows (${maxDelete})`;
    } else if (maxDelete === undefined && tooMuchToDelete(existing, deletions.length)) {
      skipped = `${deletions.length} of the ${existing} entries at the destination would be deleted, more than half; give the maxDelete option to allow it`;
    }
    const tooMany = skipped !== undefined;
    // A dry run still lists what would go, even past the limit.
    if (skipped && !dryRun) return { skipped };
    for (const deletion of deletions) {
      const error = dryRun ? null : deleteEntry(tree, deletion);
      if (error) report.fail(error, deletion.path);
      else report.deleted(deletion.path, deletion.isDirectory, !tooMany);
    }
    if (skipped) return { skipped };
    this.retrying = true;
    return { retry: this.blocked.splice(0) };
  }

  /** Whatever stopped run() from clearing their way: these entries failed after all. */
  takeBlocked(): Array<{ job: Job; error: ErrorRecord }> {
    return this.blocked.splice(0).map((job) => ({
      job,
      error: { code: 'EISDIR', message: 'a directory is in the way, and the delete option did not run', operation: 'rename', path: joinRaw(this.options.destination, job.path) },
    }));
  }
}

export interface Deletion {
  /** Relative to the destination root. */
  path: RawPath;
  isDirectory: boolean;
}

export interface ExtraneousEntries {
  /** Deepest first, so each directory is empty by the time its turn comes. */
  deletions: Deletion[];
  failures: ErrorRecord[];
  /** Destination entries looked at: in the compared directories, and inside those to delete. */
  seen: number;
}

/** The destination as the pass reads and changes it. */
interface Tree {
  destination: RawPath;
  handles: DirectoryHandles;
  filter: TreeFilter | null;
}

/**
 * `directories`: where to compare; `inTheWay`: destination directories standing
 * where the source has a file or link now, deleted whole.
 */
function findExtraneous(source: RawPath, tree: Tree, directories: Iterable<RawPath>, inTheWay: readonly RawPath[]): ExtraneousEntries {
  const found: ExtraneousEntries = { deletions: [], failures: [], seen: 0 };
  const { failures } = found;
  for (const directory of inTheWay) collect(tree, directory, true, found);
  for (const directory of directories) {
    let inSource: Set<RawPath>;
    let atDestination: fs.Dirent<Buffer>[];
    try {
      inSource = new Set(fs.readdirSync(fsPath(joinRaw(source, directory)), { encoding: 'buffer' }).map(rawFromBytes));
    } catch (error) {
      failures.push(errorRecord(error, 'list', joinRaw(source, directory)));
      continue;
    }
    try {
      atDestination = fs.readdirSync(tree.handles.directoryPath(directory), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      // Not at the destination (a dry run, or --include made no copy of it): nothing to delete there.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') failures.push(errorRecord(error, 'list', joinRaw(tree.destination, directory)));
      continue;
    }
    for (const dirent of atDestination) {
      const name = rawFromBytes(dirent.name);
      // Our own temporary names and locks belong to runs in progress, this one's or another's.
      if (isOurName(name)) continue;
      if (inSource.has(name)) {
        found.seen++;
        continue;
      }
      collect(tree, childPath(directory, name), dirent.isDirectory(), found);
    }
  }
  return found;
}

/** Adds an entry and, for a directory, its contents; returns false when something in it must stay. */
function collect(tree: Tree, relative: RawPath, isDirectory: boolean, found: ExtraneousEntries): boolean {
  found.seen++;
  if (tree.filter?.excludes(relative, isDirectory)) return false;
  let whole = true;
  if (isDirectory) {
    let children: fs.Dirent<Buffer>[];
    try {
      children = fs.readdirSync(tree.handles.directoryPath(relative), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      found.failures.push(errorRecord(error, 'list', joinRaw(tree.destination, relative)));
      return false;
    }
    for (const child of children) {
      if (!collect(tree, childPath(relative, rawFromBytes(child.name)), child.isDirectory(), found)) whole = false;
    }
  }
  if (whole) found.deletions.push({ path: relative, isDirectory });
  return whole;
}

/** Through the parent's descriptor: a symlink planted in the tree is removed itself, never followed. */
function deleteEntry(tree: Tree, deletion: Deletion): ErrorRecord | null {
  try {
    const target = tree.handles.entryPath(deletion.path);
    if (deletion.isDirectory) {
      tree.handles.forget(deletion.path);
      fs.rmdirSync(target);
    } else fs.unlinkSync(target);
    return null;
  } catch (error) {
    return errorRecord(error, 'delete', joinRaw(tree.destination, deletion.path));
  }
}
