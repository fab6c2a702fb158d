/**
 * Decides, in the worker, whether an entry already at the destination name is
 * kept or replaced (RunSettings.overwrite). Only jobs whose directory existed
 * before the run get here (Job.mayExist): a first copy pays nothing for it.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import type { Owner, OverwritePolicy } from '../shared/jobs.js';
import { microseconds, microsecondsOf, sameMtime, type SourceFile } from '../shared/metadata.js';
import { native, type Native } from '../shared/native.js';
import { copyable, LOST_UNAVAILABLE, syncXattrs, type Xattr } from '../shared/xattrs.js';
import type { FsPath } from '../shared/raw-path.js';
import { openCopyToRead, READ_FLAGS, SOURCE_READ_FLAGS, SourceFailure } from './job-result.js';
import { setTimes } from './metadata-copy.js';

/** What is at the destination name now, or null when nothing is. */
export function existingAt(path: FsPath): BigIntStats | null {
  try {
    return fs.lstatSync(path, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Whether the existing entry stays, for a regular file job. Reads both files for 'checksum'. */
export function keepsFile(
  file: SourceFile,
  existing: BigIntStats,
  policy: OverwritePolicy,
  source: FsPath,
  destination: FsPath,
  buffer: Buffer,
): boolean {
  switch (policy) {
    case 'always':
      return false;
    case 'never':
      return true;
    case 'older': {
      // rsync --update: a destination newer than the source stays; an equal one stays unless the size differs.
      if (!existing.isFile()) return false;
      if (sameMtime(file.mtimeNs, existing.mtimeNs)) return Number(existing.size) === file.size;
      return existing.mtimeNs > file.mtimeNs;
    }
    case 'changed':
      return existing.isFile() && Number(existing.size) === file.size && sameMtime(file.mtimeNs, existing.mtimeNs);
    case 'checksum':
      return existing.isFile() && Number(existing.size) === file.size && sameContent(source, destination, buffer);
  }
}

/** A symlink stays when it already points at the same text ('never' keeps whatever is there). */
export function keepsSymlink(existing: BigIntStats, policy: OverwritePolicy, target: Buffer, destination: FsPath): boolean {
  if (policy === 'never') return true;
  if (policy === 'always' || !existing.isSymbolicLink()) return false;
  return fs.readlinkSync(destination, { encoding: 'buffer' }).equals(target);
}

/** A second name stays when it already is the same inode as the first name's copy. */
export function keepsHardLink(existing: BigIntStats, policy: OverwritePolicy, firstName: FsPath): boolean {
  if (policy === 'never') return true;
  if (policy === 'always') return false;
  // In a dry run the first name's copy may not exist yet.
  const first = existingAt(firstName);
  return first !== null && first.ino === existing.ino && first.dev === existing.dev;
}

/**
 * A kept file whose content is current may still differ in mode, owner or
 * (with 'checksum') times, as `rsync -a` fixes them without rewriting the data.
 * Through a descriptor opened without following a symlink: whatever stands at
 * the name now, a link planted there is never followed.
 */
export function refreshMetadata(
  file: SourceFile,
  owner: Owner | undefined,
  existing: BigIntStats,
  destination: FsPath,
  xattrs: readonly Xattr[],
  withXattrs: boolean,
  /** Its directory has a default ACL: the copy may hold an inherited ACL its source does not have. */
  inheritsAcls: boolean,
): number {
  const lib = native();
  const chown = owner !== undefined && (Number(existing.uid) !== owner.uid || Number(existing.gid) !== owner.gid);
  // chown clears set-user-ID and set-group-ID bits and a capability, so a chown is followed by a chmod and the attributes.
  let chmod = chown || Number(existing.mode & 0o7777n) !== file.mode;
  // To the nanosecond where they can be set so.
  const utimes = lib ? existing.mtimeNs !== file.mtimeNs : microsecondsOf(existing.mtimeNs) !== microseconds(file.mtime);
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
    fd = fs.openSync(destination, READ_FLAGS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    // A file its owner may not read (mode 0200, 0000): by its name in the working directory, as checked a moment ago.
  }
  try {
    const target = fd ?? destination;
    if (chown) {
      if (fd === undefined) fs.lchownSync(destination, owner.uid, owner.gid);
      else fs.fchownSync(fd, owner.uid, owner.gid);
    }
    if (attributes) {
      const synced = syncXattrs(lib, target, xattrs);
      lost |= synced.lost;
      chmod ||= synced.changed;
    }
    if (chmod) {
      if (fd === undefined) fs.chmodSync(destination, file.mode);
      else fs.fchmodSync(fd, file.mode);
    }
    if (utimes) setTimes(lib, target, file);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return lost;
}

/** Whether the destination has attributes of its own that the copy may have to remove. */
function hasCopyable(lib: Native, destination: FsPath): boolean {
  const names = lib.list(destination);
  return typeof names === 'number' || names.some(copyable);
}

function sameContent(source: FsPath, destination: FsPath, buffer: Buffer): boolean {
  const half = buffer.length >> 1;
  let a: number;
  try {
    a = fs.openSync(source, SOURCE_READ_FLAGS);
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
      fs.closeSync(b);
    }
  } finally {
    fs.closeSync(a);
  }
}

function readSource(fd: number, buffer: Buffer, length: number): number {
  try {
    return fs.readSync(fd, buffer, 0, length, null);
  } catch (error) {
    throw new SourceFailure(error);
  }
}
