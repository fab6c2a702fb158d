/**
 * The koffi bindings behind native.ts's calls: libc's functions declared, and
 * wrapped so that each returns a result or an errno, with scratch buffers for
 * names and paths so that no call allocates on the per-file path. Linux on a
 * 64-bit little-endian machine only: the declarations assume its struct
 * timespec, statx layout and flags.
 */
import nodeModule from 'node:module';
import os from 'node:os';
// A cycle with native.ts, which loads this file: the values taken from it are read only when load() runs.
import { ENOSYS, isNotSupported, type At, type DirectoryCalls, type EntryStats, type Native, type Target } from './native.js';
import type { FsPath } from './raw-path.js';

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
const NO_SCRATCH = Buffer.alloc(0);

/** Binds the calls; throws where they cannot be (another platform, no prebuilt koffi). */
export function load(): Native {
  // Only Linux on a 64-bit little-endian machine: the declarations below assume its struct timespec and flags.
  if (process.platform !== 'linux') throw new Error(`not on ${process.platform}`);
  if (os.endianness() !== 'LE' || !['x64', 'arm64', 'riscv64', 'loong64', 'ppc64'].includes(process.arch)) throw new Error(`not on ${process.arch}`);
  const koffi = loadKoffi();
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
  const putTime = (offset: number, ns: bigint, into = times) => {
    let seconds = ns / 1_000_000_000n;
    if (seconds * 1_000_000_000n > ns) seconds -= 1n;
    into.writeBigInt64LE(seconds, offset);
    into.writeBigInt64LE(ns - seconds * 1_000_000_000n, offset + 8);
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
      dev: deviceNumber(statBuffer.readUInt32LE(136), statBuffer.readUInt32LE(140)),
      ino: u64(32),
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
  const calls: Native = {
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
    setTimesInPool(path, atimeNs, mtimeNs, follow) {
      // Buffers of its own: calls in flight together share no scratch (a scratch of no length makes cString allocate).
      const own = Buffer.alloc(32);
      putTime(0, atimeNs, own);
      putTime(16, mtimeNs, own);
      const bytes = cString(path, NO_SCRATCH);
      return new Promise((resolve) => {
        (utimensat as unknown as AsyncCall).async(AT_FDCWD, bytes, own, follow ? 0 : AT_SYMLINK_NOFOLLOW, (error: unknown, result: number) => {
          // errno belongs to the pool's thread: a failure is asked again here, where it can be read.
          resolve(error === null && result === 0 ? 0 : calls.setTimes(path, atimeNs, mtimeNs, follow));
        });
      });
    },
  };
  return calls;
}

/** A koffi function called on Node's thread pool: its arguments, then a callback with the result. */
interface AsyncCall {
  async(...args: unknown[]): void;
}

/**
 * koffi's prebuilt binary for this machine, required directly: koffi's entry first reads node's
 * ELF header to choose between its glibc and musl builds, then adds deprecated aliases we never
 * call, 9 ms of CPU in every process that loads it (the CLI, and each worker). Where the glibc
 * build is not there or does not load (musl, another layout of the package), koffi's entry chooses.
 */
function loadKoffi(): typeof import('koffi') {
  const require = nodeModule.createRequire(import.meta.url);
  if (process.platform === 'linux') {
    try {
      return require(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`) as typeof import('koffi');
    } catch {
      // koffi's own entry, below.
    }
  }
  return require('koffi') as typeof import('koffi');
}

function isAt(target: Target): target is At {
  return typeof target === 'object' && !Buffer.isBuffer(target);
}

/** makedev() in plain numbers, as Node's stats' dev gives it (majors are below 2^21 on Linux: exact). */
function deviceNumber(major: number, minor: number): number {
  return (major & 0xfffff000) * 0x1_0000_0000 + (minor & 0xffffff00) * 0x1000 + (((major & 0xfff) << 8) | (minor & 0xff));
}

/** Node's stats' st_dev: glibc's makedev() of statx's major and minor. */
function makedev(major: number, minor: number): bigint {
  const high = (BigInt(major & 0xfffff000) << 32n) | (BigInt(minor & 0xffffff00) << 12n);
  return high | BigInt(((major & 0xfff) << 8) | (minor & 0xff));
}
