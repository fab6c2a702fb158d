/**
 * The few libc calls Node has no API for: extended attributes (which carry POSIX
 * ACLs and file capabilities) and times to the nanosecond (utimensat, futimens),
 * through koffi, a prebuilt FFI (no compiler at install). Loaded lazily, on the
 * first call that needs it, so the CLI's start-up never pays for it; where it
 * cannot load (another platform, a missing prebuilt), `native()` is null and the
 * callers copy what Node can, saying what was not kept (see metadata-loss.ts).
 *
 * Every call is synchronous and returns an errno instead of throwing, so the
 * per-file path stays a short run of calls. Attribute names are kept as latin1
 * strings: one character per byte, exact for any name.
 */
import nodeModule from 'node:module';
import os from 'node:os';
import type { FsPath } from './raw-path.js';

/** What is being read or written: an open descriptor, or a path whose last component is never followed. */
export type Target = number | FsPath;

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
}

const ERRNO = os.constants.errno;
export const { ENOTSUP, ERANGE, ENODATA, EPERM } = ERRNO as Required<typeof ERRNO>;
/** Linux has one value for both; elsewhere they may differ. */
const EOPNOTSUPP = (ERRNO as Record<string, number>).EOPNOTSUPP ?? ENOTSUP;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** The largest value Linux allows (XATTR_SIZE_MAX), and far more than any name list. */
const XATTR_MAX = 64 * 1024;
const PATH_MAX = 4096;
const XATTR_NAME_MAX = 255;

let loaded: Native | null | undefined;
/** Why native() is null, once it was tried. */
let loadError: string | undefined;

/** The libc calls, loaded on first use; null where they are not available. */
export function native(): Native | null {
  if (loaded === undefined) {
    try {
      loaded = process.env.FOLDERCOPY_TEST_NO_NATIVE === '1' ? unavailable('disabled for a test') : load();
    } catch (error) {
      loaded = null;
      loadError = error instanceof Error ? error.message : String(error);
    }
  }
  return loaded;
}

export function nativeLoadError(): string | undefined {
  return loadError;
}

export function isNotSupported(errno: number): boolean {
  return errno === ENOTSUP || errno === EOPNOTSUPP;
}

function unavailable(why: string): null {
  throw new Error(why);
}

/** The errno's name (EPERM), for error records. */
export function errnoCode(errno: number): string {
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
  const utimensat = fn('int utimensat(int dirfd, const void *path, const void *times, int flags)');
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
  const nameOf = (name: string): Buffer => cString(name, nameScratch, true);
  const putTime = (offset: number, ns: bigint) => {
    let seconds = ns / 1_000_000_000n;
    if (seconds * 1_000_000_000n > ns) seconds -= 1n;
    times.writeBigInt64LE(seconds, offset);
    times.writeBigInt64LE(ns - seconds * 1_000_000_000n, offset + 8);
  };

  return {
    list(target) {
      const length = typeof target === 'number' ? flistxattr(target, buffer, XATTR_MAX) : llistxattr(pathOf(target), buffer, XATTR_MAX);
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
      const length = typeof target === 'number' ? fgetxattr(target, key, buffer, XATTR_MAX) : lgetxattr(pathOf(target), key, buffer, XATTR_MAX);
      if (length < 0) return errno();
      return Buffer.from(buffer.subarray(0, length));
    },
    set(target, name, value) {
      const key = nameOf(name);
      const result = typeof target === 'number' ? fsetxattr(target, key, value, value.length, 0) : lsetxattr(pathOf(target), key, value, value.length, 0);
      return result < 0 ? errno() : 0;
    },
    remove(target, name) {
      const key = nameOf(name);
      const result = typeof target === 'number' ? fremovexattr(target, key) : lremovexattr(pathOf(target), key);
      return result < 0 ? errno() : 0;
    },
    setTimes(target, atimeNs, mtimeNs, follow = false) {
      putTime(0, atimeNs);
      putTime(16, mtimeNs);
      const result = typeof target === 'number' ? futimens(target, times) : utimensat(AT_FDCWD, pathOf(target), times, follow ? 0 : AT_SYMLINK_NOFOLLOW);
      return result < 0 ? errno() : 0;
    },
  };
}
