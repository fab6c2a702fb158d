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
 * strings: one character per byte, exact for any name.
 */
import nodeModule from 'node:module';
import os from 'node:os';
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
const AT_FDCWD = -100;
// _IOW(0x94, 9, int), linux/fs.h
const FICLONE = 0x40049409;
const POSIX_FADV_DONTNEED = 4;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;
const STATX_BYTES = 256;
// listxattrat(2), Linux 6.13: the same number on every architecture (new calls share one table).
const SYS_LISTXATTRAT = 465;
// Where a variadic libc function (openat's mode, syscall's arguments) is called like a fixed one:
// integer arguments travel in the same registers either way.
const REGISTER_VARARGS = ['x64', 'arm64', 'riscv64', 'loong64'].includes(process.arch);
const FD_DIRECTORY = `/proc/${process.pid}/fd`;
/** The largest value Linux allows (XATTR_SIZE_MAX), and far more than any name list. */
const XATTR_MAX = 64 * 1024;
const PATH_MAX = 4096;
const XATTR_NAME_MAX = 255;

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

function load(): Native {
  // Only Linux on a 64-bit little-endian machine: the declarations below assume its struct timespec and flags.
  if (process.platform !== 'linux') throw new Error(`not on ${process.platform}`);
  if (os.endianness() !== 'LE' || !['x64', 'arm64', 'riscv64', 'loong64', 'ppc64'].includes(process.arch)) throw new Error(`not on ${process.arch}`);
  const require = nodeModule.createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  const fn = (signature: string) => libc.func(signature) as (...args: unknown[]) => number;
  const flistxattr = fn('intptr_t flistxattr(int fd, void *list, size_t size)');
  const llistxattr = fn('intptr_t llistxattr(const void *path, void *list, size_t size)');
  const fgetxattr = fn('intptr_t fgetxattr(int fd, const void *name, void *value, size_t size)');
  const lgetxattr = fn('intptr_t lgetxattr(const void *path, const void *name, void *value, size_t size)');
  const fsetxattr = fn('int fsetxattr(int fd, const void *name, const void *value, size_t size, int flags)');
  const lsetxattr = fn('int lsetxattr(const void *path, const void *name, const void *value, size_t size, int flags)');
  const fremovexattr = fn('int fremovexattr(int fd, const void *name)');
  const lremovexattr = fn('int lremovexattr(const void *path, const void *name)');
  const futimens = fn('int futimens(int fd, const void *times)');
  const copyFileRange = fn('intptr_t copy_file_range(int input, void *inputOffset, int output, void *outputOffset, size_t length, uint32_t flags)');
  const ioctlInt = REGISTER_VARARGS ? fn('int ioctl(int fd, unsigned long request, int argument)') : fn('int ioctl(int fd, unsigned long request, ...)');
  const ioctl = (fd: number, request: number, argument: number) => (REGISTER_VARARGS ? ioctlInt(fd, request, argument) : ioctlInt(fd, request, 'int', argument));
  const utimensat = fn('int utimensat(int dirfd, const void *path, const void *times, int flags)');
  const fadvise = fn('int posix_fadvise(int fd, int64_t offset, int64_t length, int advice)');
  const errno = () => koffi.errno();

  const buffer = Buffer.allocUnsafe(XATTR_MAX);
  const times = Buffer.alloc(32);
  // Every call is synchronous, so one scratch buffer for a path and one for a name serve them all:
  // no allocation per call on the per-file path. Linux paths fit in PATH_MAX, names in XATTR_NAME_MAX.
  const pathScratch = Buffer.allocUnsafe(PATH_MAX + 1);
  const nameScratch = Buffer.allocUnsafe(XATTR_NAME_MAX + 1);
  const cString = (text: FsPath | string, scratch: Buffer, latin1 = false): Buffer => {
    const length = typeof text === 'string' ? Buffer.byteLength(text, latin1 ? 'latin1' : 'utf8') : text.length;
    // Longer than the call would take: let the kernel say so (ENAMETOOLONG, ERANGE).
    const bytes = length < scratch.length ? scratch : Buffer.allocUnsafe(length + 1);
    if (typeof text === 'string') bytes.write(text, 0, latin1 ? 'latin1' : 'utf8');
    else text.copy(bytes);
    bytes[length] = 0;
    return bytes;
  };
  const pathOf = (target: FsPath): Buffer => cString(target, pathScratch);
  // Attribute values of a name in a directory (rare: a symlink's, a file its owner may not open) go through /proc.
  const targetPath = (target: FsPath | At): Buffer => (isAt(target) ? procPath(target) : pathOf(target));
  const nameOf = (name: string): Buffer => cString(name, nameScratch, true);
  const putTime = (offset: number, ns: bigint) => {
    let seconds = ns / 1_000_000_000n;
    if (seconds * 1_000_000_000n > ns) seconds -= 1n;
    times.writeBigInt64LE(seconds, offset);
    times.writeBigInt64LE(ns - seconds * 1_000_000_000n, offset + 8);
  };

  const openatFixed = REGISTER_VARARGS ? fn('int openat(int dirfd, const char *path, int flags, uint32_t mode)') : null;
  const openatVariadic = openatFixed ? null : fn('int openat(int dirfd, const char *path, int flags, ...)');
  const statx = fn('int statx(int dirfd, const char *path, int flags, uint32_t mask, void *buf)');
  const renameat = fn('int renameat(int fromDir, const char *from, int toDir, const char *to)');
  const unlinkat = fn('int unlinkat(int dir, const char *name, int flags)');
  const linkat = fn('int linkat(int fromDir, const char *from, int toDir, const char *to, int flags)');
  const symlinkat = fn('int symlinkat(const char *target, int dir, const char *name)');
  const readlinkat = fn('intptr_t readlinkat(int dir, const char *name, void *buf, size_t size)');
  const fchownat = fn('int fchownat(int dir, const char *name, uint32_t uid, uint32_t gid, int flags)');
  const fchmodat = fn('int fchmodat(int dir, const char *name, uint32_t mode, int flags)');
  const close = fn('int close(int fd)');
  const utimensatAt = fn('int utimensat(int dirfd, const char *path, const void *times, int flags)');
  const listxattrat = REGISTER_VARARGS ? fn('intptr_t syscall(intptr_t number, int dir, const char *name, uint32_t flags, void *list, size_t size)') : null;
  // Where the kernel has listxattrat (and no seccomp filter refuses it), a list costs no path walk through /proc.
  let hasListxattrat = listxattrat !== null && listxattrat(SYS_LISTXATTRAT, AT_FDCWD, '/', AT_SYMLINK_NOFOLLOW, null, 0) >= 0;
  const statBuffer = Buffer.alloc(STATX_BYTES);
  const secondScratch = Buffer.allocUnsafe(PATH_MAX + 1);
  // A string name is ASCII (fsPath): koffi passes it as a C string. Bytes need their terminating NUL.
  const nameArg = (name: FsPath, scratch: Buffer): string | Buffer => (typeof name === 'string' ? name : cString(name, scratch));
  const procPath = (at: At): Buffer => {
    const prefix = `${FD_DIRECTORY}/${at.dir}/`;
    const bytes = Buffer.concat([Buffer.from(prefix), typeof at.name === 'string' ? Buffer.from(at.name, 'latin1') : at.name]);
    return cString(bytes, pathScratch);
  };
  const time = (offset: number): bigint =>
    BigInt(statBuffer.readUInt32LE(offset) + statBuffer.readInt32LE(offset + 4) * 0x1_0000_0000) * 1_000_000_000n + BigInt(statBuffer.readUInt32LE(offset + 8));
  const u64 = (offset: number): number => statBuffer.readUInt32LE(offset) + statBuffer.readUInt32LE(offset + 4) * 0x1_0000_0000;
  const decodeStats = (): EntryStats => {
    const nlink = statBuffer.readUInt32LE(16);
    return {
      mode: statBuffer.readUInt16LE(28),
      uid: statBuffer.readUInt32LE(20),
      gid: statBuffer.readUInt32LE(24),
      size: u64(40),
      blocks: u64(48),
      nlink,
      atimeNs: time(64),
      mtimeNs: time(112),
      ctimeNs: time(96),
      inode: nlink > 1 ? `${makedev(statBuffer.readUInt32LE(136), statBuffer.readUInt32LE(140))}:${statBuffer.readBigUInt64LE(32)}` : undefined,
    };
  };
  const failed = (result: number): number => (result < 0 ? -errno() : result);
  const at: DirectoryCalls = {
    openAt: openatFixed
      ? (dir, name, flags, mode) => failed(openatFixed(dir, nameArg(name, pathScratch), flags, mode))
      : (dir, name, flags, mode) => failed(openatVariadic!(dir, nameArg(name, pathScratch), flags, 'uint32_t', mode)),
    statAt: (dir, name) => (statx(dir, nameArg(name, pathScratch), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, statBuffer) < 0 ? -errno() : decodeStats()),
    statFd: (fd) => (statx(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS, statBuffer) < 0 ? -errno() : decodeStats()),
    renameAt: (fromDir, from, toDir, to) => failed(renameat(fromDir, nameArg(from, pathScratch), toDir, nameArg(to, secondScratch))),
    unlinkAt: (dir, name) => failed(unlinkat(dir, nameArg(name, pathScratch), 0)),
    linkAt: (fromDir, from, toDir, to) => failed(linkat(fromDir, nameArg(from, pathScratch), toDir, nameArg(to, secondScratch), 0)),
    symlinkAt: (target, dir, name) => failed(symlinkat(cString(target, secondScratch), dir, nameArg(name, pathScratch))),
    readlinkAt: (dir, name) => {
      const length = readlinkat(dir, nameArg(name, pathScratch), buffer, PATH_MAX);
      return length < 0 ? -errno() : Buffer.from(buffer.subarray(0, length));
    },
    chownAt: (dir, name, uid, gid) => failed(fchownat(dir, nameArg(name, pathScratch), uid, gid, AT_SYMLINK_NOFOLLOW)),
    chmodAt: (dir, name, mode) => failed(fchmodat(dir, nameArg(name, pathScratch), mode, AT_SYMLINK_NOFOLLOW)),
    close: (fd) => failed(close(fd)),
  };
  return {
    at,
    copyRange: (input, output, length) => failed(copyFileRange(input, null, output, null, length, 0)),
    clone: (output, input) => (ioctl(output, FICLONE, input) < 0 ? errno() : 0),
    // posix_fadvise returns its errno rather than setting errno.
    dropCache: (fd) => fadvise(fd, 0, 0, POSIX_FADV_DONTNEED),
    list(target) {
      let length: number;
      if (typeof target === 'number') length = flistxattr(target, buffer, XATTR_MAX);
      else if (!isAt(target)) length = llistxattr(pathOf(target), buffer, XATTR_MAX);
      else {
        length = hasListxattrat ? listxattrat!(SYS_LISTXATTRAT, target.dir, nameArg(target.name, pathScratch), AT_SYMLINK_NOFOLLOW, buffer, XATTR_MAX) : -1;
        if (length < 0 && hasListxattrat && errno() === ENOSYS) hasListxattrat = false;
        if (!hasListxattrat) length = llistxattr(procPath(target), buffer, XATTR_MAX);
      }
      if (length < 0) {
        const code = errno();
        return isNotSupported(code) ? [] : code;
      }
      if (length === 0) return [];
      const names = buffer.toString('latin1', 0, length - 1).split('\0');
      return names;
    },
    get(target, name) {
      const key = nameOf(name);
      const length = typeof target === 'number' ? fgetxattr(target, key, buffer, XATTR_MAX) : lgetxattr(targetPath(target), key, buffer, XATTR_MAX);
      if (length < 0) return errno();
      return Buffer.from(buffer.subarray(0, length));
    },
    set(target, name, value) {
      const key = nameOf(name);
      const result = typeof target === 'number' ? fsetxattr(target, key, value, value.length, 0) : lsetxattr(targetPath(target), key, value, value.length, 0);
      return result < 0 ? errno() : 0;
    },
    remove(target, name) {
      const key = nameOf(name);
      const result = typeof target === 'number' ? fremovexattr(target, key) : lremovexattr(targetPath(target), key);
      return result < 0 ? errno() : 0;
    },
    setTimes(target, atimeNs, mtimeNs, follow = false) {
      putTime(0, atimeNs);
      putTime(16, mtimeNs);
      const flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
      const result =
        typeof target === 'number'
          ? futimens(target, times)
          : isAt(target)
            ? utimensatAt(target.dir, nameArg(target.name, pathScratch), times, flags)
            : utimensat(AT_FDCWD, pathOf(target), times, flags);
      return result < 0 ? errno() : 0;
    },
  };
}

function isAt(target: Target): target is At {
  return typeof target === 'object' && !Buffer.isBuffer(target);
}

/** Node's stats' st_dev: glibc's makedev() of statx's major and minor. */
function makedev(major: number, minor: number): bigint {
  const high = (BigInt(major & 0xfffff000) << 32n) | (BigInt(minor & 0xffffff00) << 12n);
  return high | BigInt(((major & 0xfff) << 8) | (minor & 0xff));
}
