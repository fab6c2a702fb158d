/**
 * Decides, in the worker, whether an entry already at the destination name is
 * kept or replaced (RunSettings.overwrite). Only jobs whose directory existed
 * before the run get here (Job.mayExist): a first copy pays nothing for it.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import type { Owner, OverwritePolicy } from '../shared/jobs.js';
import { microseconds, microsecondsOf, type Metadata, type SourceFile } from '../shared/metadata.js';
import type { FsPath } from '../shared/raw-path.js';
import { SourceFailure } from './job-result.js';

// O_NONBLOCK: a FIFO put at the name must not block the worker.
const NO_FOLLOW_READ = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

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
      const source = microseconds(file.mtime);
      const destination = microsecondsOf(existing.mtimeNs);
      return destination > source || (destination === source && Number(existing.size) === file.size);
    }
    case 'changed':
      return existing.isFile() && Number(existing.size) === file.size && microsecondsOf(existing.mtimeNs) === microseconds(file.mtime);
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
export function refreshMetadata(file: Metadata, owner: Owner | undefined, existing: BigIntStats, destination: FsPath): void {
  const chown = owner !== undefined && (Number(existing.uid) !== owner.uid || Number(existing.gid) !== owner.gid);
  // chown clears set-user-ID and set-group-ID bits, so a chown is followed by a chmod.
  const chmod = chown || Number(existing.mode & 0o7777n) !== file.mode;
  const utimes = microsecondsOf(existing.mtimeNs) !== microseconds(file.mtime);
  if (!chown && !chmod && !utimes) return;
  let fd: number;
  try {
    fd = fs.openSync(destination, NO_FOLLOW_READ);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    // A file its owner may not read (mode 0200, 0000): by its name in the working directory, as checked a moment ago.
    if (chown) fs.lchownSync(destination, owner.uid, owner.gid);
    if (chmod) fs.chmodSync(destination, file.mode);
    if (utimes) fs.utimesSync(destination, file.atime, file.mtime);
    return;
  }
  try {
    if (chown) fs.fchownSync(fd, owner.uid, owner.gid);
    if (chmod) fs.fchmodSync(fd, file.mode);
    if (utimes) fs.futimesSync(fd, file.atime, file.mtime);
  } finally {
    fs.closeSync(fd);
  }
}

function sameContent(source: FsPath, destination: FsPath, buffer: Buffer): boolean {
  const half = buffer.length >> 1;
  let a: number;
  try {
    a = fs.openSync(source, 'r');
  } catch (error) {
    throw new SourceFailure(error);
  }
  try {
    const b = fs.openSync(destination, NO_FOLLOW_READ);
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
