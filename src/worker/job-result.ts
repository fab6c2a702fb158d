/**
 * What every kind of job shares in the worker: its results, and the small
 * file-system steps whose failures must be told apart or kept quiet.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { ErrorRecord } from '../shared/errors.js';
import type { RunSettings } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import type { FsPath, RawPath } from '../shared/raw-path.js';
import type { WorkingDirectory } from './working-directory.js';

/** What a job runs against: the run's settings, and the destination directory it works in. */
export interface BatchContext {
  settings: RunSettings;
  place: WorkingDirectory;
}

/** Where one job's entry is: as failures name it, and as fs calls reach it. */
export interface JobPaths {
  /** The source and destination paths under the roots as the user gave them. */
  source: RawPath;
  final: RawPath;
  /**
   * The source for fs calls, through its directory's descriptor (a single file's by its path): never
   * relative, as the worker works from inside destination directories, and no source directory swapped
   * for a symlink is followed.
   */
  sourceFs: FsPath;
  /** The entry's name in the destination directory the worker is in. */
  name: RawPath;
}

// The common results of links allocate nothing.
// How a file is opened for reading. O_NOFOLLOW refuses one replaced by a symlink since it
// was listed, O_NONBLOCK keeps one replaced by a FIFO from blocking the open; both absent on Windows.
export const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const O_NOATIME = fs.constants.O_NOATIME ?? 0;
// As root, O_NOATIME also leaves a source's access time as it was, so the copy and the source
// show the same one (only an owner or root may ask for it: a source may belong to anyone).
export const SOURCE_READ_FLAGS = READ_FLAGS | (process.geteuid?.() === 0 ? O_NOATIME : 0);

/** Opens a copy to read it back, leaving the access time it was given, where the kernel lets us (our own file, or root). */
export function openCopyToRead(path: FsPath): number {
  if (O_NOATIME === 0) return fs.openSync(path, READ_FLAGS);
  try {
    return fs.openSync(path, READ_FLAGS | O_NOATIME);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return fs.openSync(path, READ_FLAGS);
  }
}

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
export function hashFile(path: FsPath, buffer: Buffer): string {
  const hash = createHash('sha256');
  const fd = openCopyToRead(path);
  try {
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** A stale temporary file with our name can only be a leftover of a killed run whose pid we reuse. */
export function createExclusive<T>(temp: FsPath, create: () => T): T {
  try {
    return create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    fs.unlinkSync(temp);
    return create();
  }
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already failing; the first error is the one reported.
  }
}
