/**
 * Where the worker reads and writes: every entry is a name in a directory open
 * as a descriptor (a Place), and every call on it is one of the *at family
 * (openat, statx, renameat, linkat...) through that descriptor. Each directory
 * is opened through its parent's descriptor without following a symlink
 * (shared/directory-handles.ts), so a directory of either tree swapped for a
 * symlink during the run is met as ELOOP or ENOTDIR, and nothing is read,
 * written, chmod'ed, timed, renamed or unlinked through it; a name is never
 * followed where it is a symlink (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW). No path
 * walk per call, and no process-wide state: no chdir.
 *
 * Where the libc calls cannot be loaded (native() is null), the same calls go
 * through Node's fs on `/proc/<pid>/fd/<dir>/<name>` paths, as before: slower,
 * with the same guarantees. The trees these directories belong to are trees.ts.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import { ENOENT, ENOTDIR, errnoError, native, type At, type DirectoryCalls, type EntryStats } from '../shared/native.js';
import { fsPath, type FsPath, type RawPath } from '../shared/raw-path.js';

/** An open directory: its descriptor, and a path that names it for the few calls that take only a path. */
export interface Dir {
  fd: number;
  path: FsPath;
}

/** An entry: its directory, and its name there (no slash). */
export interface Place {
  dir: Dir;
  name: FsPath;
}

/** The libc calls, or null where only Node's fs is there; asked once. */
let calls: DirectoryCalls | null | undefined;
export function at(): DirectoryCalls | null {
  if (calls === undefined) calls = native()?.at ?? null;
  return calls;
}

/** The entry as xattr and time calls take it. */
export function target(place: Place): At {
  return { dir: place.dir.fd, name: place.name };
}

/** A path naming the entry, for the calls that take only a path (through /proc on Linux). */
export function pathOf(place: Place): FsPath {
  const { path } = place.dir;
  if (typeof path === 'string' && typeof place.name === 'string') return `${path}/${place.name}`;
  return Buffer.concat([Buffer.from(typeof path === 'string' ? `${path}/` : Buffer.concat([path, Buffer.from('/')])), typeof place.name === 'string' ? Buffer.from(place.name) : place.name]);
}

/** The same entry under another name in its directory (a temporary name). */
export function sibling(place: Place, name: RawPath): Place {
  return { dir: place.dir, name: fsPath(name) };
}

export function openAt(place: Place, flags: number, mode = 0): number {
  const lib = at();
  if (!lib) return fs.openSync(pathOf(place), flags, mode);
  const fd = lib.openAt(place.dir.fd, place.name, flags, mode);
  if (fd < 0) throw errnoError(-fd, 'open');
  return fd;
}

/** What is at the name (never following it), or null when nothing is. */
export function statAt(place: Place): EntryStats | null {
  const lib = at();
  if (!lib) {
    const stats = fs.lstatSync(pathOf(place), { bigint: true, throwIfNoEntry: false });
    return stats ? entryStats(stats) : null;
  }
  const stats = lib.statAt(place.dir.fd, place.name);
  if (typeof stats !== 'number') return stats;
  if (-stats === ENOENT || -stats === ENOTDIR) return null;
  throw errnoError(-stats, 'lstat');
}

/** statAt, where a failure only means the entry is not known: null. */
export function statQuietly(place: Place): EntryStats | null {
  try {
    return statAt(place);
  } catch {
    return null;
  }
}

export function fstat(fd: number): EntryStats {
  const lib = at();
  if (!lib) return entryStats(fs.fstatSync(fd, { bigint: true }));
  const stats = lib.statFd(fd);
  if (typeof stats === 'number') throw errnoError(-stats, 'fstat');
  return stats;
}

export function closeFd(fd: number): void {
  const lib = at();
  if (!lib) return fs.closeSync(fd);
  const result = lib.close(fd);
  if (result < 0) throw errnoError(-result, 'close');
}

/** Renames within one directory. */
export function renameAt(from: Place, to: Place): void {
  const lib = at();
  if (!lib) return fs.renameSync(pathOf(from), pathOf(to));
  check(lib.renameAt(from.dir.fd, from.name, to.dir.fd, to.name), 'rename');
}

export function unlinkAt(place: Place): void {
  const lib = at();
  if (!lib) return fs.unlinkSync(pathOf(place));
  check(lib.unlinkAt(place.dir.fd, place.name), 'unlink');
}

export function unlinkAtQuietly(place: Place): void {
  try {
    unlinkAt(place);
  } catch {
    // Nothing to remove, or the original failure is the one worth reporting.
  }
}

export function linkAt(existing: Place, name: Place): void {
  const lib = at();
  if (!lib) return fs.linkSync(pathOf(existing), pathOf(name));
  check(lib.linkAt(existing.dir.fd, existing.name, name.dir.fd, name.name), 'link');
}

export function symlinkAt(text: Buffer, place: Place): void {
  const lib = at();
  if (!lib) return fs.symlinkSync(text, pathOf(place));
  check(lib.symlinkAt(text, place.dir.fd, place.name), 'symlink');
}

export function readlinkAt(place: Place): Buffer {
  const lib = at();
  if (!lib) return fs.readlinkSync(pathOf(place), { encoding: 'buffer' });
  const text = lib.readlinkAt(place.dir.fd, place.name);
  if (typeof text === 'number') throw errnoError(-text, 'readlink');
  return text;
}

/** chown, never following a symlink at the name. */
export function chownAt(place: Place, uid: number, gid: number): void {
  const lib = at();
  if (!lib) return fs.lchownSync(pathOf(place), uid, gid);
  check(lib.chownAt(place.dir.fd, place.name, uid, gid), 'lchown');
}

/** chmod, never following a symlink at the name: one planted there fails (EOPNOTSUPP). */
export function chmodAt(place: Place, mode: number): void {
  const lib = at();
  if (!lib) {
    // Node has no lchmod on Linux: what is there is checked, then changed by its name.
    if (fs.lstatSync(pathOf(place)).isSymbolicLink()) throw errnoError(os.constants.errno.ELOOP, 'chmod');
    return fs.chmodSync(pathOf(place), mode);
  }
  check(lib.chmodAt(place.dir.fd, place.name, mode), 'chmod');
}

function check(result: number, syscall: string): void {
  if (result < 0) throw errnoError(-result, syscall);
}

function entryStats(stats: BigIntStats): EntryStats {
  return {
    mode: Number(stats.mode),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    size: Number(stats.size),
    blocks: Number(stats.blocks),
    nlink: Number(stats.nlink),
    atimeNs: stats.atimeNs,
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    inode: stats.nlink > 1n ? `${stats.dev}:${stats.ino}` : undefined,
    dev: Number(stats.dev),
    ino: Number(stats.ino),
  };
}
