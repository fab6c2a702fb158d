/**
 * --backup, --backup-dir and --suffix, as rsync has them: a file or symlink a
 * run replaces (a worker) or deletes (the delete pass, in the parent) is kept
 * aside first, under its name with the suffix beside it, or at its relative
 * path inside the backup directory. An earlier backup at that name is replaced:
 * only the last one is kept. The entry is given a second name (a hard link), so
 * its replacement by rename stays atomic: the name never stands empty. Where no
 * hard link can be made there (another device, FAT), the entry is copied
 * instead, its mode and times kept.
 *
 * Only a run with --backup comes here: without it, nothing per file.
 */
import fs from 'node:fs';
import { fsPath, joinRaw, type FsPath, type RawPath } from './raw-path.js';

export interface BackupSettings {
  /** Appended to the kept name (raw): '~' by default beside the file, '' in a backup directory. */
  suffix: RawPath;
  /** Absolute (raw); null: beside the file. */
  dir: RawPath | null;
}

/** Where a backup goes, and the directory to make first (inside a backup directory). */
export interface Aside {
  path: FsPath;
  parent: FsPath | null;
}

// A second name cannot be made there: the entry is copied.
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** The entry `relative` of the destination, kept in the backup directory `dir`. */
export function asideIn(dir: RawPath, relative: RawPath, suffix: RawPath): Aside {
  const raw = joinRaw(dir, relative) + suffix;
  return { path: fsPath(raw), parent: fsPath(raw.slice(0, raw.lastIndexOf('/')) || '/') };
}

/**
 * Gives the entry at `current` (a symlink is never followed) the name `aside`; false when there is
 * nothing to keep (gone, or a directory: its files are kept as the delete pass removes them). Throws
 * what went wrong: the caller fails the entry and leaves it as it was.
 */
export function keepAside(current: FsPath, aside: Aside): boolean {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(current);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (stats.isDirectory()) return false;
  if (aside.parent !== null) fs.mkdirSync(aside.parent, { recursive: true });
  try {
    fs.unlinkSync(aside.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    fs.linkSync(current, aside.path);
  } catch (error) {
    if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    copyAside(current, stats, aside.path);
  }
  return true;
}

function copyAside(current: FsPath, stats: fs.Stats, aside: FsPath): void {
  if (stats.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(current, 'buffer'), aside);
    return;
  }
  fs.copyFileSync(current, aside, fs.constants.COPYFILE_EXCL);
  fs.utimesSync(aside, stats.atime, stats.mtime);
}
