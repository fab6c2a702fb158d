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
 * with the same guarantees.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import { basename, dirname } from 'node:path';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { ENOENT, ENOTDIR, errnoError, native, type At, type DirectoryCalls, type EntryStats } from '../shared/native.js';
import { fsPath, parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import { hasDefaultAcl } from '../shared/xattrs.js';

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
function at(): DirectoryCalls | null {
  if (calls === undefined) calls = native()?.at ?? null;
  return calls;
}

/** The directories of one tree, by path relative to its root; the last one asked for is kept at hand. */
export class Directories {
  private readonly handles: DirectoryHandles;
  private last: RawPath | null = null;
  private lastDir: Dir | null = null;
  private readonly adopted: Directories[] = [];

  /** `lookUpOnly`: a source tree, whose directories are only searched, never listed. */
  constructor(root: RawPath, { lookUpOnly = false } = {}) {
    const lib = at();
    this.handles = new DirectoryHandles(root, {
      lookUpOnly,
      ...(lib && {
        openChild: (parent: number, name: RawPath, flags: number) => {
          const fd = lib.openAt(parent, fsPath(name), flags, 0);
          if (fd < 0) throw errnoError(-fd, 'open');
          return fd;
        },
      }),
    });
  }

  /** The directory at `relative` ('' is the root); throws the system's error (ELOOP: a symlink is in the way). */
  dir(relative: RawPath): Dir {
    // The last directory is the most recent of the handles' cache, so its descriptor is still open.
    if (relative === this.last) return this.lastDir!;
    const fd = this.handles.descriptor(relative);
    this.last = relative;
    this.lastDir = { fd, path: this.handles.directoryPath(relative) };
    return this.lastDir;
  }

  /** The entry at `path` (relative to the root, not the root itself). */
  place(path: RawPath): Place {
    return { dir: this.dir(parentOf(path) ?? ''), name: fsPath(path.slice(path.lastIndexOf('/') + 1)) };
  }

  /** Other directories (a single file's) to close with these. */
  adopt(other: Directories): void {
    this.adopted.push(other);
  }

  close(): void {
    this.last = null;
    this.lastDir = null;
    this.handles.closeAll();
    for (const other of this.adopted.splice(0)) other.close();
  }
}

/** A single file's own place: by its real path, as the user named it (a symlink they named is followed). */
export function rootFilePlace(path: RawPath): { place: Place; directories: Directories } {
  const real = fs.realpathSync(fsPath(path), { encoding: 'latin1' });
  const directories = new Directories(dirname(real), { lookUpOnly: true });
  return { place: { dir: directories.dir(''), name: fsPath(basename(real)) }, directories };
}

/**
 * The destination tree, and what the worker learns per directory: which mode
 * bits a new file keeps (a default ACL on the directory masks the mode a file
 * is created with, so a file whose bits are not known to survive is checked
 * once, and fixed where they did not), and whether the directory has a default
 * ACL at all, from which new files inherit ACLs: asked once, the first time a
 * file there needs to know.
 */
export class Destination {
  private readonly directories: Directories;
  /** A single-file copy's one entry (its job is named ''): the destination's own name. */
  private readonly singleName: FsPath | null;
  private current: Dir | null = null;
  private keptBits = 0;
  private masking = false;
  private aclHandedDown: boolean | null = null;

  constructor(destination: RawPath, singleFile: boolean) {
    this.directories = new Directories(singleFile ? dirname(destination) : destination);
    this.singleName = singleFile ? fsPath(basename(destination)) : null;
  }

  /** The entry at `path` (a job's path; '' for a single file's), its directory opened if need be. */
  place(path: RawPath): Place {
    const place = path === '' && this.singleName !== null ? { dir: this.directories.dir(''), name: this.singleName } : this.directories.place(path);
    if (place.dir !== this.current) {
      this.current = place.dir;
      this.keptBits = 0;
      this.masking = false;
      this.aclHandedDown = null;
    }
    return place;
  }

  /** Another entry of the destination tree (a hard link's first name); the current directory's learning is kept. */
  other(path: RawPath): Place {
    const place = this.directories.place(path);
    // The directories' cache now holds this one at hand: the current one is asked for again by its path.
    this.current = null;
    return place;
  }

  /** Whether the file just created as `fd` with `mode` has it exactly; a stat only while that is not known. */
  keepsMode(fd: number, mode: number): boolean {
    if (this.masking) return false;
    if ((mode & ~this.keptBits) === 0) return true;
    if ((fstat(fd).mode & 0o7777) === mode) {
      this.keptBits |= mode;
      return true;
    }
    this.masking = true;
    return false;
  }

  /** Whether files created in `dir` inherit an ACL from it: one getxattr there, the first time. */
  handsDownAcls(dir: Dir): boolean {
    if (dir !== this.current) return aclOn(dir);
    this.aclHandedDown ??= aclOn(dir);
    return this.aclHandedDown;
  }

  close(): void {
    this.current = null;
    this.directories.close();
  }
}

function aclOn(dir: Dir): boolean {
  const lib = native();
  return lib !== null && hasDefaultAcl(lib, dir.fd);
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
  };
}
