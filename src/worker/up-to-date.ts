/**
 * Decides, in the worker, whether an entry already at the destination name is
 * kept or replaced (WorkerSettings.overwrite). Only jobs whose directory existed
 * before the run get here (Job.mayExist): a first copy pays nothing for it.
 */
import fs from 'node:fs';
import type { Owner, OverwritePolicy } from '../shared/jobs.js';
import { microseconds, microsecondsOf, sameMtime, type SourceFile } from '../shared/metadata.js';
import { native, S_IFLNK, S_IFMT, S_IFREG, type EntryStats, type Native } from '../shared/native.js';
import { copyable, LOST_UNAVAILABLE, syncXattrs, type Xattr } from '../shared/xattrs.js';
import { closeFd, chmodAt, chownAt, openAt, readlinkAt, statAt, target, type Place } from './places.js';
import { openCopyToRead, READ_FLAGS, SOURCE_READ_FLAGS, SourceFailure } from './job-result.js';
import { setTimes } from './metadata-copy.js';

/** What is at the destination name now, or null when nothing is. */
export function existingAt(place: Place): EntryStats | null {
  return statAt(place);
}

function isFile(stats: EntryStats): boolean {
  return (stats.mode & S_IFMT) === S_IFREG;
}

export function isSymlink(stats: EntryStats): boolean {
  return (stats.mode & S_IFMT) === S_IFLNK;
}

/** What a regular file job's keep-or-replace decision reads. */
export interface KeepCheck {
  policy: OverwritePolicy;
  /** Times this many seconds apart count as the same (WorkerSettings.modifyWindow). */
  modifyWindow: number;
  source: Place;
  destination: Place;
  buffer: Buffer;
  /** Both sides still hold the content a previous run recorded for them (worker/recorded.ts): 'checksum' reads neither. */
  sameContent?: boolean;
}

/** What a kept file's metadata is made to be, besides its source's mode and times. */
export interface WantedMetadata {
  owner: Owner | undefined;
  /** The source's attributes, to compare and copy when withXattrs. */
  xattrs: readonly Xattr[];
  withXattrs: boolean;
  /** Its directory has a default ACL: the copy may hold an inherited ACL its source does not have. */
  inheritsAcls: boolean;
  /** --modify-window: times within it are left as they are (on FAT, setting them would not make them equal). */
  modifyWindow?: number;
}

/** Whether the existing entry stays, for a regular file job. Reads both files for 'checksum'. */
export function keepsFile(file: SourceFile, existing: EntryStats, check: KeepCheck): boolean {
  switch (check.policy) {
    case 'always':
      return false;
    case 'never':
      return true;
    case 'older': {
      // rsync --update: a destination newer than the source stays; an equal one stays unless the size differs.
      if (!isFile(existing)) return false;
      if (sameMtime(file.mtimeNs, existing.mtimeNs, check.modifyWindow)) return existing.size === file.size;
      return existing.mtimeNs > file.mtimeNs;
    }
    case 'changed':
      return isFile(existing) && existing.size === file.size && sameMtime(file.mtimeNs, existing.mtimeNs, check.modifyWindow);
    case 'checksum':
      return isFile(existing) && existing.size === file.size && (check.sameContent === true || sameContent(check.source, check.destination, check.buffer));
  }
}

/**
 * Whether a kept file is meant to match its source: kept as up to date ('changed', 'checksum',
 * 'older' at the same time), not by 'never' or as a newer copy. --verify and the manifest check those.
 */
export function keptAsCurrent(file: SourceFile, existing: EntryStats, { policy, modifyWindow }: Pick<KeepCheck, 'policy' | 'modifyWindow'>): boolean {
  return policy === 'changed' || policy === 'checksum' || (policy === 'older' && sameMtime(file.mtimeNs, existing.mtimeNs, modifyWindow));
}

/** A symlink stays when it already points at the same text ('never' keeps whatever is there). */
export function keepsSymlink(existing: EntryStats, policy: OverwritePolicy, text: Buffer, destination: Place): boolean {
  if (policy === 'never') return true;
  if (policy === 'always' || !isSymlink(existing)) return false;
  return readlinkAt(destination).equals(text);
}

/** A second name stays when it already is the same inode as the first name's copy. */
export function keepsHardLink(existing: EntryStats, policy: OverwritePolicy, firstName: Place): boolean {
  if (policy === 'never') return true;
  if (policy === 'always') return false;
  // In a dry run the first name's copy may not exist yet. Two names of one inode: both have more than one.
  const first = existingAt(firstName);
  return first !== null && first.inode !== undefined && first.inode === existing.inode;
}

/**
 * A kept file whose content is current may still differ in mode, owner or
 * (with 'checksum') times, as `rsync -a` fixes them without rewriting the data.
 * Through a descriptor opened without following a symlink: whatever stands at
 * the name now, a link planted there is never followed.
 */
export function refreshMetadata(file: SourceFile, existing: EntryStats, destination: Place, wanted: WantedMetadata): number {
  const { owner, xattrs, withXattrs, inheritsAcls, modifyWindow = 0 } = wanted;
  const lib = native();
  const chown = owner !== undefined && (existing.uid !== owner.uid || existing.gid !== owner.gid);
  // chown clears set-user-ID and set-group-ID bits and a capability, so a chown is followed by a chmod and the attributes.
  let chmod = chown || (existing.mode & 0o7777) !== file.mode;
  // To the nanosecond where they can be set so.
  const utimes =
    modifyWindow > 0
      ? !sameMtime(file.mtimeNs, existing.mtimeNs, modifyWindow)
      : lib
        ? existing.mtimeNs !== file.mtimeNs
        : microsecondsOf(existing.mtimeNs) !== microseconds(file.mtime);
  // Attributes are compared by name and value when the source has some. When it has none, the copy
  // can only hold stale ones if the source lost them since the copy was last changed (ctime), or if it
  // inherited an ACL where it was made: only then is a list call at the destination worth it, on a
  // no-op re-run's every file.
  const staleAtDestination = file.ctimeNs > existing.ctimeNs || inheritsAcls;
  const attributes = withXattrs && lib !== null && (xattrs.length > 0 || (staleAtDestination && hasCopyable(lib, destination)));
  if (!chown && !chmod && !utimes && !attributes) return lib ? 0 : LOST_UNAVAILABLE;
  let lost = lib ? 0 : LOST_UNAVAILABLE;
  let fd: number | undefined;
  try {
    fd = openAt(destination, READ_FLAGS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    // A file its owner may not read (mode 0200, 0000): by its name in its directory, never followed.
  }
  try {
    if (chown) {
      if (fd === undefined) chownAt(destination, owner.uid, owner.gid);
      else fs.fchownSync(fd, owner.uid, owner.gid);
    }
    if (attributes) {
      const synced = syncXattrs(lib, fd ?? target(destination), xattrs);
      lost |= synced.lost;
      chmod ||= synced.changed;
    }
    if (chmod) {
      if (fd === undefined) chmodAt(destination, file.mode);
      else fs.fchmodSync(fd, file.mode);
    }
    if (utimes) setTimes(lib, fd ?? destination, file);
  } finally {
    if (fd !== undefined) closeFd(fd);
  }
  return lost;
}

/** Whether the destination has attributes of its own that the copy may have to remove. */
function hasCopyable(lib: Native, destination: Place): boolean {
  const names = lib.list(target(destination));
  return typeof names === 'number' || names.some(copyable);
}

function sameContent(source: Place, destination: Place, buffer: Buffer): boolean {
  const half = buffer.length >> 1;
  let a: number;
  try {
    a = openAt(source, SOURCE_READ_FLAGS);
  } catch (error) {
    throw new SourceFailure(error);
  }
  try {
    const b = openCopyToRead(destination);
    try {
      for (;;) {
        const readA = readSource(a, buffer, half);
        const readB = fs.readSync(b, buffer, half, half, null);
        if (readA !== readB) return false;
        if (readA === 0) return true;
        if (!buffer.subarray(0, readA).equals(buffer.subarray(half, half + readB))) return false;
      }
    } finally {
      closeFd(b);
    }
  } finally {
    closeFd(a);
  }
}

function readSource(fd: number, buffer: Buffer, length: number): number {
  try {
    return fs.readSync(fd, buffer, 0, length, null);
  } catch (error) {
    throw new SourceFailure(error);
  }
}
