/**
 * What every kind of job shares in the worker: its results, and the small
 * file-system steps whose failures must be told apart or kept quiet.
 */
import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire as requireFrom } from 'node:module';
import type { ErrorRecord } from '../shared/errors.js';
import type { WorkerSettings } from '../shared/jobs.js';
import type { SourceFile } from '../shared/metadata.js';
import type { JobResult } from '../shared/protocol.js';
import type { RawPath } from '../shared/raw-path.js';
import type { LinkDests } from './link-dest.js';
import { closeFd, openAt, unlinkAt, type Place } from './places.js';
import type { Destination } from './trees.js';

/** What every job of a batch runs against: the run's settings, the two trees, and the process's own constants. */
export interface BatchContext {
  settings: WorkerSettings;
  /** The destination tree, where entries are written. */
  place: Destination;
  /** The worker's one copy buffer. */
  buffer: Buffer;
  /** Temporary names carry it, so a dead worker's leftovers can be swept. */
  pid: number;
  /**
   * The parent runs the batch (pool/inline-worker.ts): a large file is cloned (a reflink, at once)
   * or handed back for a forked worker, never copied byte by byte, which would hold the parent for seconds.
   */
  inParent?: true;
  /** --link-dest's trees, opened for this batch; absent when the option is off. */
  linkDests?: LinkDests;
}

/** Where one job's entry is: as failures name it, and as the calls reach it. */
export interface JobPaths {
  /** The source and destination paths under the roots as the user gave them. */
  source: RawPath;
  final: RawPath;
  /** The job's path, relative to the roots (a backup directory keeps it). */
  relative: RawPath;
  /** The source entry, by its name in its directory's descriptor (a single file's, by its real path). */
  from: Place;
  /** The destination entry, by its final name in its directory's descriptor. */
  to: Place;
}

/**
 * A job's paths, and, for a regular file, what its copy finds as it goes (copy-file.ts, write-file.ts): one
 * object per job, made whole by jobPaths(), so that what a file's copy learns costs no object of its own.
 */
export interface FileCopy extends JobPaths {
  /** The source's descriptor, -1 while it is not open. */
  input: number;
  /** The source's stats, once taken. */
  sourceFile: SourceFile | null;
  /** What a write reports (created or overwritten), once decided. */
  decision: JobResult | null;
  /** Where the data is written: the temporary name, or the final one in a staged copy. */
  temp: Place | null;
  /** The SHA-256 of what was read, when --verify or a manifest needs it. */
  digest: string | undefined;
  /** A large file's progress, in bytes written (the kernel's copy and the block loop report it). */
  onBytes: ((copied: number) => void) | undefined;
}

/** A job's paths, with room for what a regular file's copy finds. */
export function jobPaths({ source, final, relative, from, to }: JobPaths): FileCopy {
  return { source, final, relative, from, to, input: -1, sourceFile: null, decision: null, temp: null, digest: undefined, onBytes: undefined };
}

// How a file is opened for reading. O_NOFOLLOW refuses one replaced by a symlink since it
// was listed, O_NONBLOCK keeps one replaced by a FIFO from blocking the open; both absent on Windows.
export const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const O_NOATIME = fs.constants.O_NOATIME ?? 0;
// As root, O_NOATIME also leaves a source's access time as it was, so the copy and the source
// show the same one (only an owner or root may ask for it: a source may belong to anyone).
export const SOURCE_READ_FLAGS = READ_FLAGS | (process.geteuid?.() === 0 ? O_NOATIME : 0);

/** Opens a copy to read it back, leaving the access time it was given, where the kernel lets us (our own file, or root). */
export function openCopyToRead(place: Place): number {
  if (O_NOATIME === 0) return openAt(place, READ_FLAGS);
  try {
    return openAt(place, READ_FLAGS | O_NOATIME);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return openAt(place, READ_FLAGS);
  }
}

// The common results of links allocate nothing.
export const CREATED: JobResult = Object.freeze({ outcome: 'created', size: 0 });
export const OVERWRITTEN: JobResult = Object.freeze({ outcome: 'overwritten', size: 0 });
export const SKIPPED: JobResult = Object.freeze({ outcome: 'skipped', size: 0 });

export function failed(error: ErrorRecord): JobResult {
  return { outcome: 'failed', size: 0, error };
}

export function isWrite(result: JobResult): boolean {
  return result.outcome === 'created' || result.outcome === 'overwritten';
}

/** Thrown around a failure on the source side; anything else thrown while copying is on the destination side. */
export class SourceFailure {
  constructor(readonly cause: unknown) {}
}

/** SHA-256 in hex of a copy's content as it is on disk now. */
export function hashFile(place: Place, buffer: Buffer): string {
  const fd = openCopyToRead(place);
  try {
    return hashOpen(fd, buffer);
  } finally {
    closeFd(fd);
  }
}

// Loaded at the first hash (--verify, --checksum, a manifest): a plain copy spares the start-up Node's crypto.
let crypto: typeof import('node:crypto') | undefined;

/** A new SHA-256. */
export function sha256(): Hash {
  crypto ??= requireFrom(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256');
}

/** SHA-256 in hex of what is left to read of the open file `fd`. */
export function hashOpen(fd: number, buffer: Buffer): string {
  const hash = sha256();
  let read: number;
  while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  return hash.digest('hex');
}

/** A stale temporary file with our name can only be a leftover of a killed run whose pid we reuse. */
export function createExclusive<T>(temp: Place, create: () => T): T {
  try {
    return create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkAt(temp);
    return create();
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // Already failing; the first error is the one reported.
  }
}
