/**
 * A destination directory that is already there (an earlier run's, or the
 * user's existing destination), taken for the copy: see reuseDirectory().
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import type { Owner } from '../shared/jobs.js';
import { microseconds, microsecondsOf } from '../shared/metadata.js';
import { isTempName } from '../shared/names-on-disk.js';
import { childPath, rawFromLatin1, type FsPath } from '../shared/raw-path.js';
import type { DirectoryEntry } from '../source/entry.js';

/** What the run needs of a directory until finalize() gives it its mode. */
export const OWNER_RWX = 0o700;

/**
 * A directory left by an earlier run (or the user's existing destination):
 * something that is not a directory is replaced, as rsync does, so nothing is
 * ever written through a symlink; leftovers of a killed run are swept; and it
 * is made writable until finalize() restores its mode.
 * Returns 'created' when it had to be replaced; otherwise the mode it has now
 * if that is untouched, or -1. Without `sweep`, leftovers stay: other runs may be writing them now.
 */
export function reuseDirectory(handles: DirectoryHandles, entry: DirectoryEntry, target: FsPath, stats: BigIntStats, sweep: boolean): 'created' | number {
  if (!stats.isDirectory()) {
    fs.unlinkSync(target);
    fs.mkdirSync(target, OWNER_RWX);
    return 'created';
  }
  let mode = Number(stats.mode) & 0o7777;
  if ((mode & OWNER_RWX) !== OWNER_RWX) {
    fs.fchmodSync(handles.descriptor(entry.path), mode | OWNER_RWX);
    mode = -1;
  }
  // Still the mtime a complete run gave it: nothing was created in it since, so no killed
  // run left anything here, and listing it (a no-op re-run's biggest cost after the walk) is spared.
  if (!sweep || microsecondsOf(stats.mtimeNs) === microseconds(entry.mtime)) return mode;
  for (const name of fs.readdirSync(handles.directoryPath(entry.path), { encoding: 'latin1' })) {
    if (isTempName(name)) fs.unlinkSync(handles.entryPath(childPath(entry.path, rawFromLatin1(name))));
  }
  return mode;
}

/** Whether an existing directory has the owner finalize() would give it (none to give: it has). */
export function ownerIs(stats: BigIntStats, owner: Owner | undefined): boolean {
  return owner === undefined || (Number(stats.uid) === owner.uid && Number(stats.gid) === owner.gid);
}
