/**
 * What every kind of job shares in the worker: its results, and the small
 * file-system steps whose failures must be told apart or kept quiet.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { CopyBatch, JobResult } from '../shared/protocol.js';
import type { ErrorRecord } from '../shared/errors.js';
import type { FsPath } from '../shared/raw-path.js';

/** What a job runs against: the batch's roots and the run's settings. */
export type BatchContext = Pick<CopyBatch, 'source' | 'destination' | 'settings'>;

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

/** SHA-256 in hex of a file's content as it is on disk now. */
export function hashFile(path: FsPath, buffer: Buffer): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(path, 'r');
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
