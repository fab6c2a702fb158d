/**
 * Copies one job: a file, a symlink or a second name of a hard-linked file.
 * When something is already at the destination name (Job.check), up-to-date.ts
 * decides first whether it stays. Runs in a worker, a million times per big tree, so the common path is a short
 * run of synchronous calls (an async call per step costs a thread-pool round trip):
 * open source, read its stats from the descriptor, create the temporary file with
 * its final mode, read, write, set times on the descriptor, close, rename into
 * place. Never throws: a failure comes back as a record naming the path and the
 * operation.
 *
 * The worker runs with umask 0, so files are created with exactly their mode.
 */
import type { BigIntStats } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { metadataFromStats, ownerFor, sourceFileFromStats, type Metadata, type SourceFile } from './metadata.js';
import type { CopyBatchMessage, ErrorRecord, FileJob, HardLinkJob, Job, Operation, SymlinkJob } from './protocol.js';
import { errorRecord, LARGE_FILE_BYTES, OUTCOME, type Outcome } from './protocol.js';
import { fsPath, joinRaw, type FsPath, type RawPath } from './raw-path.js';
import { tempPathFor, unlinkQuietly, writingPathFor } from './temp-name.js';
import { existingAt, keepsFile, keepsHardLink, keepsSymlink, refreshMetadata, SourceUnreadable } from './up-to-date.js';

/** What a job runs against: the batch's roots and the run's settings. */
export type BatchContext = Pick<CopyBatchMessage, 'source' | 'destination' | 'settings'>;

export interface JobResult {
  outcome: Outcome;
  /** Bytes of a regular file's source, as found now; 0 for other jobs. */
  size: number;
  error?: ErrorRecord;
  /** SHA-256 in hex of a regular file's content, when RunSettings.digest asks for it. */
  digest?: string;
  /** A file handed back because it has other names: its `dev:ino`. */
  inode?: string;
}

// The common results of links allocate nothing.
const CREATED: JobResult = Object.freeze({ outcome: OUTCOME.created, size: 0 });
const OVERWRITTEN: JobResult = Object.freeze({ outcome: OUTCOME.overwritten, size: 0 });
const SKIPPED: JobResult = Object.freeze({ outcome: OUTCOME.skipped, size: 0 });

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
// O_NOFOLLOW refuses a source replaced by a symlink since it was listed, O_NONBLOCK
// keeps one replaced by a FIFO from blocking the open; both absent on Windows.
const READ_FLAGS = O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL;
const SET_ID_BITS = 0o6000;
const HOLE_BLOCK_BYTES = 4096;
const ZERO_BLOCK = Buffer.alloc(HOLE_BLOCK_BYTES);
const LARGE_FILE_POLL_MS = 100;

/** Marks a failure on the source side; anything else thrown while copying is on the destination side. */
class ReadFailure {
  constructor(readonly cause: unknown) {}
}

export function copyJob(job: Job, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  const finalPath = joinRaw(context.destination, job.path);
  switch (job.kind) {
    case 'file':
      return copyRegularFile(job, joinRaw(context.source, job.path), finalPath, context, buffer, pid);
    case 'symlink':
      return copySymlink(job, joinRaw(context.source, job.path), finalPath, context, pid);
    case 'hardlink':
      return linkSecondName(job, context, finalPath, buffer, pid);
  }
}

function copyRegularFile(job: FileJob, sourcePath: RawPath, finalPath: RawPath, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  // A first copy opens the source at once and reads its stats from the descriptor;
  // a check or a dry run, which may not need the content, looks at it first.
  let input = job.check || context.settings.dryRun ? -1 : openSource(sourcePath);
  if (typeof input !== 'number') return failed(input);
  const source = statSource(sourcePath, input);
  if ('code' in source) return closing(input, failed(source));
  const handedBack = deferral(job, source);
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
function deferral(job: FileJob, source: SourceFile): JobResult | null {
  if (source.inode !== undefined && !job.linked) return { outcome: OUTCOME.deferred, size: source.size, inode: source.inode };
  if (source.size >= LARGE_FILE_BYTES && !job.large) return { outcome: OUTCOME.deferred, size: source.size };
  return null;
}

function isWrite(result: JobResult): boolean {
  return result.outcome === OUTCOME.created || result.outcome === OUTCOME.overwritten;
}

/** Created or overwritten when the file is to be written; otherwise the job's final result: kept as it is, or a failure. */
function decideFile(job: FileJob, source: SourceFile, sourcePath: RawPath, finalPath: RawPath, context: BatchContext, buffer: Buffer): JobResult {
  if (!job.check) return { outcome: OUTCOME.created, size: source.size };
  const { overwrite, dryRun, digest, owners } = context.settings;
  const final = fsPath(finalPath);
  let stage: Operation = 'stat';
  try {
    const existing = existingAt(final);
    if (!existing) return { outcome: OUTCOME.created, size: source.size };
    if (!keepsFile(source, existing, overwrite, fsPath(sourcePath), final, buffer)) return { outcome: OUTCOME.overwritten, size: source.size };
    stage = 'set-metadata';
    if ((overwrite === 'changed' || overwrite === 'checksum') && !dryRun) refreshMetadata(source, ownerFor(source, owners), existing, final);
    stage = 'read';
    return { outcome: OUTCOME.skipped, size: source.size, ...(digest && { digest: hashFile(final, buffer) }) };
  } catch (error) {
    return error instanceof SourceUnreadable
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
    return failed(error instanceof ReadFailure ? errorRecord(error.cause, 'read', sourcePath) : errorRecord(error, stage, finalPath));
  }
}

function failed(error: ErrorRecord): JobResult {
  return { outcome: OUTCOME.failed, size: 0, error };
}

/** SHA-256 in hex of a file's content as it is on disk now. */
function hashFile(path: FsPath, buffer: Buffer): string {
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

function readInto(fd: number, buffer: Buffer, position: number | null): number {
  try {
    return fs.readSync(fd, buffer, 0, buffer.length, position);
  } catch (error) {
    throw new ReadFailure(error);
  }
}

/** Reads until end of file; a short read ends the copy only once the size the stat gave is reached. */
function copyDense(
  input: number,
  output: number,
  buffer: Buffer,
  statSize: number,
  hash: Hash | null,
  onChunk: ((copied: number) => void) | undefined,
): void {
  let copied = 0;
  let read: number;
  do {
    read = readInto(input, buffer, null);
    if (read > 0) {
      writeAll(output, buffer, 0, read, null);
      hash?.update(buffer.subarray(0, read));
    }
    copied += read;
    onChunk?.(copied);
  } while (read > 0 && (read === buffer.length || copied < statSize));
}

/** Like `cp --sparse=auto` for a source with holes: all-zero blocks are skipped and become holes. */
function copySparse(
  input: number,
  output: number,
  buffer: Buffer,
  hash: Hash | null,
  onChunk: ((copied: number) => void) | undefined,
): void {
  let position = 0;
  let read: number;
  while ((read = readInto(input, buffer, position)) > 0) {
    writeDataRuns(output, buffer, read, position);
    hash?.update(buffer.subarray(0, read));
    position += read;
    onChunk?.(position);
  }
  fs.ftruncateSync(output, position);
}

function writeDataRuns(fd: number, buffer: Buffer, length: number, position: number): void {
  let runStart = -1;
  for (let block = 0; block < length; block += HOLE_BLOCK_BYTES) {
    const blockEnd = Math.min(block + HOLE_BLOCK_BYTES, length);
    const zero = buffer.subarray(block, blockEnd).equals(ZERO_BLOCK.subarray(0, blockEnd - block));
    if (!zero && runStart < 0) runStart = block;
    if (zero && runStart >= 0) {
      writeAll(fd, buffer, runStart, block, position + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) writeAll(fd, buffer, runStart, length, position + runStart);
}

function writeAll(fd: number, buffer: Buffer, start: number, end: number, position: number | null): void {
  let offset = start;
  while (offset < end) {
    const written = fs.writeSync(fd, buffer, offset, end - offset, position === null ? null : position + offset - start);
    offset += written;
  }
}

function copySymlink(job: SymlinkJob, sourcePath: RawPath, finalPath: RawPath, context: BatchContext, pid: number): JobResult {
  let target: Buffer;
  let metadata: Metadata;
  try {
    const stats = fs.lstatSync(fsPath(sourcePath), { bigint: true });
    if (!stats.isSymbolicLink()) return failed({ code: 'ECHANGED', message: 'it is no longer a symlink', operation: 'stat', path: sourcePath });
    metadata = metadataFromStats(stats);
    target = fs.readlinkSync(fsPath(sourcePath), { encoding: 'buffer' });
  } catch (error) {
    return failed(errorRecord(error, 'read', sourcePath));
  }
  const final = fsPath(finalPath);
  let planned = CREATED;
  if (job.check) {
    try {
      const existing = existingAt(final);
      if (existing && keepsSymlink(existing, context.settings.overwrite, target, final)) return SKIPPED;
      if (existing) planned = OVERWRITTEN;
    } catch (error) {
      return failed(errorRecord(error, 'stat', finalPath));
    }
  }
  if (context.settings.dryRun) return planned;
  const { staged } = context.settings;
  const temp = fsPath(writingPathFor(finalPath, pid, staged));
  let stage: Operation = 'write';
  try {
    createExclusive(temp, () => fs.symlinkSync(target, temp));
    stage = 'set-metadata';
    fs.lutimesSync(temp, metadata.atime, metadata.mtime);
    const owner = ownerFor(metadata, context.settings.owners);
    if (owner) fs.lchownSync(temp, owner.uid, owner.gid);
    stage = 'rename';
    if (!staged) fs.renameSync(temp, final);
    return planned;
  } catch (error) {
    if (stage !== 'write') unlinkQuietly(temp);
    return failed(errorRecord(error, stage, finalPath));
  }
}

function linkSecondName(job: HardLinkJob, context: BatchContext, finalPath: RawPath, buffer: Buffer, pid: number): JobResult {
  const firstName = fsPath(joinRaw(context.destination, job.target));
  const final = fsPath(finalPath);
  const { overwrite, dryRun, digest } = context.settings;
  let planned = CREATED;
  if (job.check) {
    try {
      const existing = existingAt(final);
      if (existing && keepsHardLink(existing, overwrite, firstName)) {
        return digest ? { outcome: OUTCOME.skipped, size: 0, digest: hashFile(final, buffer) } : SKIPPED;
      }
      if (existing) planned = OVERWRITTEN;
    } catch (error) {
      return failed(errorRecord(error, 'stat', finalPath));
    }
  }
  if (dryRun) return planned;
  const error = planned === CREATED ? linkInPlace(firstName, final, finalPath) : replaceWithLink(firstName, finalPath, pid);
  if (error) return failed(error);
  return digest ? { outcome: planned.outcome, size: 0, digest: hashFile(final, buffer) } : planned;
}

function linkInPlace(firstName: FsPath, final: FsPath, finalPath: RawPath): ErrorRecord | null {
  try {
    fs.linkSync(firstName, final);
    return null;
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
}

/** Replaces what is at the name atomically, through a temporary name. */
function replaceWithLink(firstName: FsPath, finalPath: RawPath, pid: number): ErrorRecord | null {
  const temp = fsPath(tempPathFor(finalPath, pid));
  try {
    createExclusive(temp, () => fs.linkSync(firstName, temp));
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
  try {
    fs.renameSync(temp, fsPath(finalPath));
    return null;
  } catch (error) {
    unlinkQuietly(temp);
    return errorRecord(error, 'rename', finalPath);
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
  const early = deferral(job, source);
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

/** A stale temporary file with our name can only be a leftover of a killed run whose pid we reuse. */
function createExclusive<T>(temp: FsPath, create: () => T): T {
  try {
    return create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    fs.unlinkSync(temp);
    return create();
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already failing; the first error is the one reported.
  }
}
