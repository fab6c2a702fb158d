/**
 * What the delete pass removes: destination entries the source lacks, found name
 * by name in the directories the walk went through, and deleted through their
 * parents' descriptors, deepest first. What the source holds comes from a lister:
 * the source directory read again (a copy's pass), or a plan's listing (the
 * finalize step of a planned copy, which never reads the source).
 */
import fs from 'node:fs';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { childPath, fsPath, joinRaw, rawFromBytes, type RawPath } from '../shared/raw-path.js';
import { isOurName } from '../shared/names-on-disk.js';
import type { TreeFilter } from '../source/filter.js';
import { asideIn, keepAside, type Aside, type BackupSettings } from '../shared/keep-aside.js';

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
export interface Tree {
  destination: RawPath;
  handles: DirectoryHandles;
  filter: TreeFilter | null;
  /** --backup: each file and symlink deleted is kept aside first. */
  backup: BackupSettings | null;
  /** A backup directory inside the destination (relative): never deleted. */
  keptFromDelete: RawPath | null;
}

/** Backups are not the destination's extraneous entries: the backup directory, and names with the suffix beside their files (as rsync protects them). */
function isBackup({ backup, keptFromDelete }: Tree, relative: RawPath): boolean {
  if (relative === keptFromDelete) return true;
  return backup !== null && backup.dir === null && relative.endsWith(backup.suffix);
}

/** The names a source directory holds (relative to the root), or why they cannot be told. */
export type SourceNames = (directory: RawPath) => ReadonlySet<RawPath> | ErrorRecord;

/** The source's directories, each read again as the pass comes to it. */
export function sourceListing(source: RawPath): SourceNames {
  return (directory) => {
    try {
      return new Set(fs.readdirSync(fsPath(joinRaw(source, directory)), { encoding: 'buffer' }).map(rawFromBytes));
    } catch (error) {
      return errorRecord(error, 'list', joinRaw(source, directory));
    }
  };
}

/**
 * `directories`: where to compare; `inTheWay`: destination directories standing
 * where the source has a file or link now, deleted whole.
 */
export function findExtraneous(namesIn: SourceNames, tree: Tree, directories: Iterable<RawPath>, inTheWay: readonly RawPath[]): ExtraneousEntries {
  const found: ExtraneousEntries = { deletions: [], failures: [], seen: 0 };
  const { failures } = found;
  for (const directory of inTheWay) collect(tree, directory, true, found);
  for (const directory of directories) {
    const inSource = namesIn(directory);
    let atDestination: fs.Dirent<Buffer>[];
    if ('code' in inSource) {
      failures.push(inSource);
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
  if (tree.filter?.excludes(relative, isDirectory) || isBackup(tree, relative)) return false;
  let whole = true;
  if (isDirectory) {
    let children: fs.Dirent<Buffer>[];
    try {
      children = fs.readdirSync(tree.handles.directoryPath(relative), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      found.failures.push(errorRecord(error, 'list', joinRaw(tree.destination, relative)));
      return false;
    }
    // Backups beside their files (--backup without a directory) stay in it: so does the directory.
    const backupsStay = tree.backup !== null && tree.backup.dir === null;
    for (const child of children) {
      if (!collect(tree, childPath(relative, rawFromBytes(child.name)), child.isDirectory(), found) || (backupsStay && !child.isDirectory())) whole = false;
    }
  }
  if (whole) found.deletions.push({ path: relative, isDirectory });
  return whole;
}

/**
 * Through the parent's descriptor: a symlink planted in the tree is removed itself, never followed.
 * With --backup, a file or symlink is kept aside first (a directory's entries were, before it).
 */
export function deleteEntry(tree: Tree, deletion: Deletion): { error: ErrorRecord } | { keptAside: boolean } {
  let keptAside = false;
  try {
    const target = tree.handles.entryPath(deletion.path);
    if (tree.backup !== null && !deletion.isDirectory) {
      try {
        keptAside = keepAside(target, asideOf(tree, tree.backup, deletion.path));
      } catch (error) {
        return { error: errorRecord(error, 'backup', joinRaw(tree.destination, deletion.path)) };
      }
    }
    if (deletion.isDirectory) {
      tree.handles.forget(deletion.path);
      fs.rmdirSync(target);
    } else fs.unlinkSync(target);
    return { keptAside };
  } catch (error) {
    return { error: errorRecord(error, 'delete', joinRaw(tree.destination, deletion.path)) };
  }
}

function asideOf(tree: Tree, { dir, suffix }: BackupSettings, relative: RawPath): Aside {
  return dir !== null ? asideIn(dir, relative, suffix) : { path: tree.handles.entryPath(relative + suffix), parent: null };
}
