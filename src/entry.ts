/**
 * One listed item of the source tree, read once from lstat: what it is and the
 * metadata its copy must carry. Times are kept as utimes will need them.
 */
import type { BigIntStats } from 'node:fs';
import type { Seconds } from './protocol.js';
import type { RawPath } from './raw-path.js';

export type EntryKind = 'dir' | 'file' | 'symlink' | 'special';

export interface Entry {
  /** Relative to the source root; '' is the root itself. */
  path: RawPath;
  kind: EntryKind;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  atime: Seconds;
  mtime: Seconds;
  /** Fewer blocks than the size needs: the file has holes. */
  sparse: boolean;
  /** Set for files with more than one name, so the copy can share one inode too. */
  inode?: string;
  /** For special files: what kind, for the warning. */
  specialType?: string;
}

export function entryFromStats(path: RawPath, stats: BigIntStats): Entry {
  const kind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'special';
  const size = Number(stats.size);
  const entry: Entry = {
    path,
    kind,
    size,
    mode: Number(stats.mode & 0o7777n),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atime: toSeconds(stats.atimeNs),
    mtime: toSeconds(stats.mtimeNs),
    sparse: kind === 'file' && Number(stats.blocks) * 512 < size,
  };
  if (kind === 'file' && stats.nlink > 1n) entry.inode = `${stats.dev}:${stats.ino}`;
  if (kind === 'special') entry.specialType = specialType(stats);
  return entry;
}

function specialType(stats: BigIntStats): string {
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file';
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * utimes takes seconds as a double, and libuv truncates it to the microsecond.
 * A double of today's seconds is exact to about 240 ns, so aiming at the middle
 * of the source's microsecond lands in it: never one below, never in the next second.
 */
function toSeconds(ns: bigint): Seconds {
  let whole = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) {
    whole -= 1n;
    fraction += NS_PER_SECOND;
  }
  const micros = Number(fraction / 1000n);
  return Number(whole) + (micros + 0.5) / 1e6;
}
