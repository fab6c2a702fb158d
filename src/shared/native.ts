/**
 * The few libc calls Node has no API for: extended attributes (which carry POSIX
 * ACLs and file capabilities) and times to the nanosecond (utimensat, futimens),
 * through koffi, a prebuilt FFI (no compiler at install). Loaded lazily, on the
 * first call that needs it, so the CLI's start-up never pays for it; where it
 * cannot load (another platform, a missing prebuilt), `native()` is null and the
 * callers copy what Node can, saying what was not kept (LOST_UNAVAILABLE, xattrs.ts).
 *
 * Every call is synchronous and returns an errno instead of throwing, so the
 * per-file path stays a short run of calls. Attribute names are kept as latin1
 * strings: one character per byte, exact for any name. This file says what the
 * calls are; libc.ts binds them.
 */
import os from 'node:os';
import { load } from './libc.js';
import type { FsPath } from './raw-path.js';

/** An entry by its name in a directory open as `dir`: the name's last component is never followed. */
export interface At {
  dir: number;
  name: FsPath;
}

/** What is being read or written: an open descriptor, a path whose last component is never followed, or a name in a directory. */
export type Target = number | FsPath | At;

/**
 * An entry's stats, from statx(2): plain numbers where they fit, times to the
 * nanosecond. Cheaper to make than Node's BigIntStats (no Dates, two BigInts per time).
 */
export interface EntryStats {
  /** The type and permission bits (st_mode). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  nlink: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** `dev:ino` as Node's stats give them, when the entry has more than one name; else undefined. */
  inode: string | undefined;
  /** st_dev as Node's stats give it, and st_ino (exact below 2^53): plain numbers, made for every entry at no cost. */
  dev: number;
  ino: number;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/**
 * Calls on a name inside an open directory (the *at family): no path walk
 * beyond the one name, which is never followed where it is a symlink (openAt
 * follows the caller's flags). Each returns its result, or a negative errno.
 */
export interface DirectoryCalls {
  openAt(dir: number, name: FsPath, flags: number, mode: number): number;
  /** lstat of the name; the stats, or a negative errno. */
  statAt(dir: number, name: FsPath): EntryStats | number;
  /** fstat of an open descriptor; the stats, or a negative errno. */
  statFd(fd: number): EntryStats | number;
  renameAt(fromDir: number, from: FsPath, toDir: number, to: FsPath): number;
  unlinkAt(dir: number, name: FsPath): number;
  linkAt(fromDir: number, from: FsPath, toDir: number, to: FsPath): number;
  symlinkAt(target: Buffer, dir: number, name: FsPath): number;
  /** The link's text, or a negative errno. */
  readlinkAt(dir: number, name: FsPath): Buffer | number;
  chownAt(dir: number, name: FsPath, uid: number, gid: number): number;
  /** chmod without following a symlink at the name (EOPNOTSUPP on a symlink). */
  chmodAt(dir: number, name: FsPath, mode: number): number;
  close(fd: number): number;
}

export interface Native {
  /** The attribute names of `target`, or an errno (ENOTSUP reads as none). */
  list(target: Target): string[] | number;
  /** One attribute's value, or an errno. */
  get(target: Target, name: string): Buffer | number;
  /** 0, or an errno. */
  set(target: Target, name: string, value: Buffer): number;
  remove(target: Target, name: string): number;
  /**
   * Sets atime and mtime to the nanosecond: on a descriptor (futimens) or on a
   * path without following its last component (utimensat, AT_SYMLINK_NOFOLLOW),
   * or following it when `follow`. 0, or an errno.
   */
  setTimes(target: Target, atimeNs: bigint, mtimeNs: bigint, follow?: boolean): number;
  /**
   * setTimes on a path, run on Node's thread pool: for a network file system, where
   * each call is a round trip and many may be in flight. 0, or an errno.
   */
  setTimesInPool(path: FsPath, atimeNs: bigint, mtimeNs: bigint, follow: boolean): Promise<number>;
  /**
   * copy_file_range(2) from `input`'s position to `output`'s, both advanced: the bytes
   * copied (0 at end of file), or minus the errno. The kernel copies, or shares the
   * blocks where the file system can (btrfs, XFS): no read into, nor write from, memory of ours.
   */
  copyRange(input: number, output: number, length: number): number;
  /** FICLONE: `output` becomes a reflink of the whole of `input`, at once (btrfs, XFS); 0, or an errno. */
  clone(output: number, input: number): number;
  /** posix_fadvise(POSIX_FADV_DONTNEED) on the whole file: its clean cached pages are dropped. 0, or an errno. */
  dropCache(fd: number): number;
  at: DirectoryCalls;
}

const ERRNO = os.constants.errno;
export const { ENODATA, EPERM, ENOENT, ENOTDIR, ENOSYS, EXDEV, EINVAL } = ERRNO as Required<typeof ERRNO>;
const { ENOTSUP } = ERRNO as Required<typeof ERRNO>;
/** Linux has one value for both; elsewhere they may differ. */
export const EOPNOTSUPP = (ERRNO as Record<string, number>).EOPNOTSUPP ?? ENOTSUP;
let loaded: Native | null | undefined;

/** The libc calls, loaded on first use; null where they are not available. */
export function native(): Native | null {
  if (loaded === undefined) {
    try {
      loaded = process.env.FOLDERCOPY_TEST_NO_NATIVE === '1' ? null : load();
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

export function isNotSupported(errno: number): boolean {
  return errno === ENOTSUP || errno === EOPNOTSUPP;
}

/** The errno's name (EPERM), for error records. */
function errnoCode(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === errno) return name;
  return `E${errno}`;
}

/** An Error shaped like Node's system errors, so errorRecord() reads it as it reads theirs. */
export function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  const code = errnoCode(errno);
  const error: NodeJS.ErrnoException = new Error(`${code}: ${syscall} failed`);
  error.code = code;
  error.errno = -errno;
  error.syscall = syscall;
  return error;
}
