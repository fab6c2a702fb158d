/**
 * Copies one regular file. When something is already at the destination name
 * (Job.mayExist), up-to-date.ts decides first whether it stays. Runs a million
 * times per big tree, so the common path is a short run of synchronous calls
 * (an async call per step costs a thread-pool round trip): open the source, read
 * its stats from the descriptor, create the temporary file with its final mode,
 * read, write, set times on the descriptor, close, rename into place. Never
 * throws: a failure comes back as a record naming the path and the operation.
 *
 * The worker runs with umask 0, so files are created with exactly their mode.
 */
import type { BigIntStats } from 'node:fs';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import { LARGE_FILE_BYTES, type FileJob } from '../shared/jobs.js';
import { ownerFor, sourceFileFromStats, type SourceFile } from '../shared/metadata.js';
import type { JobResult } from '../shared/protocol.js';
import { fsPath, joinRaw, type FsPath, type RawPath } from '../shared/raw-path.js';
import { unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import { copyDense, copySparse } from './block-copy.js';
import { closeQuietly, createExclusive, failed, hashFile, isWrite, SourceFailure, type BatchContext } from './job-result.js';
import { existingAt, keepsFile, refreshMetadata } from './up-to-date.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
// O_NOFOLLOW refuses a source replaced by a symlink since it was listed, O_NONBLOCK
// keeps one replaced by a FIFO from blocking the open; both absent on Windows.
const READ_FLAGS = O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL;
const SET_ID_BITS = 0o6000;
const LARGE_FILE_POLL_MS = 100;

export function copyFile(job: FileJob, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  const sourcePath = joinRaw(context.source, job.path);
  const finalPath = joinRaw(context.destination, job.path);
  // A first copy opens the source at once and reads its stats from the descriptor;
  // a file that may exist already, or a dry run, may not need the content: it looks first.
  let input = job.mayExist || context.settings.dryRun ? -1 : openSource(sourcePath);
  if (typeof input !== 'number') return failed(input);
  const source = statSource(sourcePath, input);
  if ('code' in source) return closing(input, failed(source));
  const handedBack = handBack(job, source);
  if (handedBack) return closing(input, handedBack);
  const decided = decideFile(job, source, sourcePath, finalPath, context, buffer);
  if (!isWrite(decided) || context.settings.dryRun) return closing(input, decided);
  if (input < 0) input = openSource(sourcePath);
  if (typeof input !== 'number') return failed(input);
  return writeRegularFile(input, source, sourcePath, finalPath, context, decided, buffer, pid);
}

/** The source opened for reading, or why it cannot be. */
function openSource(sourcePath: RawPath): number | ErrorRecord {
  try {
    return fs.openSync(fsPath(sourcePath), READ_FLAGS);
  } catch (error) {
    return errorRecord(error, 'read', sourcePath);
  }
}

/** Closes the source, when it is open, on the way out with `result`. */
function closing(fd: number, result: JobResult): JobResult {
  if (fd >= 0) closeQuietly(fd);
  return result;
}

/** The source's stats, from its descriptor when it is open; a source that is no longer a regular file fails. */
function statSource(sourcePath: RawPath, fd: number): SourceFile | ErrorRecord {
  let stats: BigIntStats;
  try {
    stats = fd >= 0 ? fs.fstatSync(fd, { bigint: true }) : fs.lstatSync(fsPath(sourcePath), { bigint: true });
  } catch (error) {
    return errorRecord(error, 'stat', sourcePath);
  }
  if (!stats.isFile()) return { code: 'ECHANGED', message: 'it is no longer a regular file', operation: 'stat', path: sourcePath };
  return sourceFileFromStats(stats);
}

/** A file the parent must schedule itself (see FileJob): handed back, untouched. */
function handBack(job: FileJob, source: SourceFile): JobResult | null {
  if (source.inode !== undefined && !job.firstName) return { outcome: 'otherNames', size: source.size, inode: source.inode };
  if (source.size >= LARGE_FILE_BYTES && !job.large) return { outcome: 'large', size: source.size };
  return null;
}

/** Created or overwritten when the file is to be written; otherwise the job's final result: kept as it is, or a failure. */
function decideFile(job: FileJob, source: SourceFile, sourcePath: RawPath, finalPath: RawPath, context: BatchContext, buffer: Buffer): JobResult {
  if (!job.mayExist) return { outcome: 'created', size: source.size };
  const { overwrite, dryRun, digest, owners } = context.settings;
  const final = fsPath(finalPath);
  let stage: Operation = 'stat';
  try {
    const existing = existingAt(final);
    if (!existing) return { outcome: 'created', size: source.size };
    if (!keepsFile(source, existing, overwrite, fsPath(sourcePath), final, buffer)) return { outcome: 'overwritten', size: source.size };
    stage = 'set-metadata';
    if ((overwrite === 'changed' || overwrite === 'checksum') && !dryRun) refreshMetadata(source, ownerFor(source, owners), existing, final);
    stage = 'read';
    return { outcome: 'skipped', size: source.size, ...(digest && { digest: hashFile(final, buffer) }) };
  } catch (error) {
    return error instanceof SourceFailure
      ? failed(errorRecord(error.cause, 'read', sourcePath))
      : failed(errorRecord(error, stage, finalPath));
  }
}

/** Writes the open source `input` (and closes it) to the destination. */
function writeRegularFile(
  input: number,
  source: SourceFile,
  sourcePath: RawPath,
  finalPath: RawPath,
  context: BatchContext,
  planned: JobResult,
  buffer: Buffer,
  pid: number,
  onBytes?: (copied: number) => void,
): JobResult {
  const { verify, digest, staged, owners } = context.settings;
  const hash = verify || digest ? createHash('sha256') : null;
  const temp = fsPath(writingPathFor(finalPath, pid, staged));
  const owner = ownerFor(source, owners);
  let output = -1;
  let created = false;
  let stage: Operation = 'write';
  try {
    output = createExclusive(temp, () => fs.openSync(temp, CREATE_FLAGS, source.mode));
    created = true;
    if (source.sparse) copySparse(input, output, buffer, hash, onBytes);
    else copyDense(input, output, buffer, source.size, hash, onBytes);
    stage = 'set-metadata';
    fs.futimesSync(output, source.atime, source.mtime);
    if (owner) {
      fs.fchownSync(output, owner.uid, owner.gid);
      // chown clears set-user-ID and set-group-ID bits; put them back.
      if (source.mode & SET_ID_BITS) fs.fchmodSync(output, source.mode);
    }
    // close() can report a delayed write error (NFS, quota): it counts as a failed write.
    stage = 'write';
    const closing = output;
    output = -1;
    fs.closeSync(closing);
    fs.closeSync(input);
    input = -1;
    const sourceDigest = hash?.digest('hex');
    if (verify) {
      stage = 'verify';
      if (hashFile(temp, buffer) !== sourceDigest) {
        unlinkQuietly(temp);
        return failed({ code: 'EVERIFY', message: 'the written copy differs from the source', operation: 'verify', path: finalPath });
      }
    }
    stage = 'rename';
    if (!staged) fs.renameSync(temp, fsPath(finalPath));
    return digest ? { ...planned, digest: sourceDigest } : planned;
  } catch (error) {
    if (input >= 0) closeQuietly(input);
    if (output >= 0) closeQuietly(output);
    if (created) unlinkQuietly(temp);
    return failed(error instanceof SourceFailure ? errorRecord(error.cause, 'read', sourcePath) : errorRecord(error, stage, finalPath));
  }
}

/**
 * Copies a large file in the kernel (a reflink where the file system has them,
 * else copy_file_range) on the thread pool, so the worker stays free to report
 * how far the copy has come. Sparse sources keep their holes through the block
 * loop, which also serves when the content must be hashed.
 */
export async function copyLargeFile(
  job: FileJob,
  context: BatchContext,
  buffer: Buffer,
  pid: number,
  onBytes: (copied: number) => void,
): Promise<JobResult> {
  const sourcePath = joinRaw(context.source, job.path);
  const finalPath = joinRaw(context.destination, job.path);
  const stats = statSource(sourcePath, -1);
  if ('code' in stats) return failed(stats);
  const source = stats;
  const early = handBack(job, source);
  if (early) return early;
  const planned = decideFile(job, source, sourcePath, finalPath, context, buffer);
  const { dryRun, verify, digest, staged, owners } = context.settings;
  if (!isWrite(planned) || dryRun) return planned;
  if (source.sparse || verify || digest) {
    const input = openSource(sourcePath);
    if (typeof input !== 'number') return failed(input);
    return writeRegularFile(input, source, sourcePath, finalPath, context, planned, buffer, pid, onBytes);
  }
  const from = fsPath(sourcePath);
  const temp = fsPath(writingPathFor(finalPath, pid, staged));
  const poll = setInterval(() => {
    const written = fs.statSync(temp, { throwIfNoEntry: false })?.size;
    if (written !== undefined) onBytes(written);
  }, LARGE_FILE_POLL_MS);
  try {
    await copyInKernel(from, temp);
  } catch (error) {
    unlinkQuietly(temp);
    return failed(sourceIsUnreadable(from) ? errorRecord(error, 'read', sourcePath) : errorRecord(error, 'write', finalPath));
  } finally {
    clearInterval(poll);
  }
  let stage: Operation = 'set-metadata';
  try {
    const owner = ownerFor(source, owners);
    if (owner) fs.chownSync(temp, owner.uid, owner.gid);
    fs.chmodSync(temp, source.mode);
    fs.utimesSync(temp, source.atime, source.mtime);
    stage = 'rename';
    if (!staged) fs.renameSync(temp, fsPath(finalPath));
    return planned;
  } catch (error) {
    unlinkQuietly(temp);
    return failed(errorRecord(error, stage, finalPath));
  }
}

async function copyInKernel(source: FsPath, temp: FsPath): Promise<void> {
  const flags = COPYFILE_EXCL | COPYFILE_FICLONE;
  try {
    await fs.promises.copyFile(source, temp, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkQuietly(temp);
    await fs.promises.copyFile(source, temp, flags);
  }
}

/** copyFile reports both paths on failure; this tells which side it was. */
function sourceIsUnreadable(source: FsPath): boolean {
  try {
    fs.accessSync(source, fs.constants.R_OK);
    return false;
  } catch {
    return true;
  }
}
