/**
 * The metadata a copy carries, read from a source's stats: by the parent for
 * directories, by the workers for files and symlinks, from the stat they make
 * anyway (so the parent never stats a file). Times are kept as utimes takes them.
 */
import type { BigIntStats } from 'node:fs';
import type { Owner, OwnerPolicy, Seconds } from './jobs.js';
import type { EntryStats } from './native.js';

/** What metadata is read from: Node's BigIntStats (the parent's) or the worker's EntryStats. */
export type StatsLike = Pick<BigIntStats | EntryStats, 'mode' | 'uid' | 'gid' | 'atimeNs' | 'mtimeNs'>;

export interface Metadata {
  mode: number;
  uid: number;
  gid: number;
  atime: Seconds;
  mtime: Seconds;
  /** The same times to the nanosecond, as futimens and utimensat take them. */
  atimeNs: bigint;
  mtimeNs: bigint;
}

/** A regular file of the source, as a worker found it when it came to copy it. */
export interface SourceFile extends Metadata {
  size: number;
  /** Fewer blocks than the size needs: the file has holes. */
  sparse: boolean;
  /** `dev:ino`, set only when the file has other names, so the copy can share one inode too. */
  inode: string | undefined;
  /** Its change time as stat gave it: a file being rewritten shows a new one (and a new mtimeNs). */
  ctimeNs: bigint;
  /** st_dev and st_ino: with size and times, what a recorded hash is matched on (shared/hash-state.ts). */
  dev: number;
  ino: number;
}

/** Whether a source file is still as it was when its copy began. */
export function unchangedSince(file: SourceFile, now: EntryStats): boolean {
  return now.size === file.size && now.mtimeNs === file.mtimeNs && now.ctimeNs === file.ctimeNs;
}

export function metadataFromStats(stats: StatsLike): Metadata {
  return {
    mode: Number(stats.mode) & 0o7777,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atime: toSeconds(stats.atimeNs),
    mtime: toSeconds(stats.mtimeNs),
    atimeNs: stats.atimeNs,
    mtimeNs: stats.mtimeNs,
  };
}

// Runs for every file in a worker: no spread, and one BigInt division per time (see toSeconds).
export function sourceFileFromStats(stats: EntryStats): SourceFile {
  const file = metadataFromStats(stats) as SourceFile;
  file.size = stats.size;
  file.sparse = stats.blocks * 512 < file.size;
  file.inode = stats.inode;
  file.ctimeNs = stats.ctimeNs;
  file.dev = stats.dev;
  file.ino = stats.ino;
  return file;
}

/**
 * Whether a destination's mtime is the source's: to the nanosecond where the
 * destination keeps nanoseconds, else to the microsecond (a copy made by a tool
 * that keeps microseconds, as foldercopy did, is not taken for a changed file);
 * with a window (--modify-window, whole seconds), within that many seconds, for
 * file systems that keep coarse times (FAT: two seconds).
 */
export function sameMtime(sourceNs: bigint, destinationNs: bigint, windowSeconds = 0): boolean {
  if (sourceNs === destinationNs) return true;
  if (windowSeconds > 0) {
    const apart = sourceNs > destinationNs ? sourceNs - destinationNs : destinationNs - sourceNs;
    return apart <= BigInt(windowSeconds) * 1_000_000_000n;
  }
  return destinationNs % 1000n === 0n && microsecondsOf(sourceNs) === microsecondsOf(destinationNs);
}

/** The owner a copy must be given, or undefined when creating it gives the right one already. */
export function ownerFor(metadata: Pick<Metadata, 'uid' | 'gid'>, policy: OwnerPolicy): Owner | undefined {
  if (!policy.preserve) return undefined;
  if (metadata.uid === policy.uid && metadata.gid === policy.gid && !policy.groupInherited) return undefined;
  return { uid: metadata.uid, gid: metadata.gid };
}

/**
 * utimes takes seconds as a double, and libuv truncates it to the microsecond.
 * A double of today's seconds is exact to about 240 ns, so aiming at the middle
 * of the source's microsecond lands in it: never one below, never in the next second.
 * Microseconds since the epoch fit a double exactly, so only the first step is a BigInt.
 */
function toSeconds(ns: bigint): Seconds {
  const micros = microsecondsOf(ns);
  const whole = Math.floor(micros / 1e6);
  return whole + (micros - whole * 1e6 + 0.5) / 1e6;
}

/** The microsecond a time falls in; times here carry the middle of theirs, so flooring gives it back. */
export function microseconds(seconds: Seconds): number {
  return Math.floor(seconds * 1e6);
}

/** The microsecond of a stat's nanoseconds, floored (BigInt division truncates towards zero). */
export function microsecondsOf(ns: bigint): number {
  const micros = ns / 1000n;
  return Number(ns < 0n && micros * 1000n !== ns ? micros - 1n : micros);
}
