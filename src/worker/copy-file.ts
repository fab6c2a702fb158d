/**
 * Copies one regular file. When something is already at the destination name
 * (Job.mayExist), up-to-date.ts decides first whether it stays. Runs a million
 * times per big tree, so the common path is a short run of synchronous calls
 * (an async call per step costs a thread-pool round trip): open the source, read
 * its stats from the descriptor, create the temporary file, read, write, check
 * the source did not change meanwhile, set times on the descriptor, close,
 * rename into place. Never throws: a failure comes back as a record naming the
 * path and the operation.
 *
 * The worker runs with umask 0 inside the entry's destination directory
 * (working-directory.ts), so destination names have no slash and nothing
 * follows a symlink planted there.
 */
import type { BigIntStats } from 'node:fs';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import { LARGE_FILE_BYTES, type FileJob } from '../shared/jobs.js';
import { ownerFor, sourceFileFromStats, unchangedSince, type SourceFile } from '../shared/metadata.js';
import type { JobResult } from '../shared/protocol.js';
import { fsPath } from '../shared/raw-path.js';
import { unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import { copyDense, copySparse } from './block-copy.js';
import { closeQuietly, createExclusive, failed, hashFile, isWrite, SOURCE_READ_FLAGS, SourceFailure, type BatchContext, type JobPaths } from './job-result.js';
import { finishFile, sourceXattrs } from './metadata-copy.js';
import { existingAt, keepsFile, refreshMetadata } from './up-to-date.js';

const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL;
const SET_ID_BITS = 0o6000;
// A source rewritten while it is read is copied again, this many times in all, then failed.
export const ATTEMPTS = 3;
export const SOURCE_CHANGED = 'ESOURCECHANGED';

export function copyFile(job: FileJob, paths: JobPaths, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  for (let attempt = 1; ; attempt++) {
    const result = copyOnce(job, paths, context, buffer, pid);
    if (result.error?.code !== SOURCE_CHANGED || attempt === ATTEMPTS) return result;
  }
}

function copyOnce(job: FileJob, paths: JobPaths, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  // A first copy opens the source at once and reads its stats from the descriptor;
  // a file that may exist already, or a dry run, may not need the content: it looks first.
  let input = job.mayExist || context.settings.dryRun ? -1 : openSource(paths);
  if (typeof input !== 'number') return failed(input);
  const source = statSource(paths, input);
  if ('code' in source) return closing(input, failed(source));
  const handedBack = handBack(job, source);
  if (handedBack) return closing(input, handedBack);
  const decided = decideFile(job, source, paths, context, buffer);
  if (!isWrite(decided) || context.settings.dryRun) return closing(input, decided);
  if (input < 0) input = openSource(paths);
  if (typeof input !== 'number') return failed(input);
  return writeRegularFile(input, source, paths, context, decided, buffer, pid);
}

/** The source opened for reading, or why it cannot be. */
export function openSource(paths: JobPaths): number | ErrorRecord {
  try {
    return fs.openSync(paths.sourceFs, SOURCE_READ_FLAGS);
  } catch (error) {
    return errorRecord(error, 'read', paths.source);
  }
}

/** Closes the source, when it is open, on the way out with `result`. */
export function closing(fd: number, result: JobResult): JobResult {
  if (fd >= 0) closeQuietly(fd);
  return result;
}

/** The source's stats, from its descriptor when it is open; a source that is no longer a regular file fails. */
export function statSource(paths: JobPaths, fd: number): SourceFile | ErrorRecord {
  let stats: BigIntStats;
  try {
    stats = fd >= 0 ? fs.fstatSync(fd, { bigint: true }) : fs.lstatSync(paths.sourceFs, { bigint: true });
  } catch (error) {
    return errorRecord(error, 'stat', paths.source);
  }
  if (!stats.isFile()) return { code: 'ECHANGED', message: 'it is no longer a regular file', operation: 'stat', path: paths.source };
  return sourceFileFromStats(stats);
}

/** A file the parent must schedule itself (see FileJob): handed back, untouched. */
export function handBack(job: FileJob, source: SourceFile): JobResult | null {
  if (source.inode !== undefined && !job.firstName) return { outcome: 'otherNames', size: source.size, inode: source.inode };
  if (source.size >= LARGE_FILE_BYTES && !job.large) return { outcome: 'large', size: source.size };
  return null;
}

/** Created or overwritten when the file is to be written; otherwise the job's final result: kept as it is, or a failure. */
export function decideFile(job: FileJob, source: SourceFile, paths: JobPaths, context: BatchContext, buffer: Buffer): JobResult {
  if (!job.mayExist) return { outcome: 'created', size: source.size };
  const { overwrite, dryRun, digest, owners } = context.settings;
  const final = fsPath(paths.name);
  let stage: Operation = 'stat';
  try {
    const existing = existingAt(final);
    if (!existing) return { outcome: 'created', size: source.size };
    if (!keepsFile(source, existing, overwrite, paths.sourceFs, final, buffer)) return { outcome: 'overwritten', size: source.size };
    stage = 'set-metadata';
    let lost = 0;
    if ((overwrite === 'changed' || overwrite === 'checksum') && !dryRun) {
      const xattrs = sourceXattrs(context.settings, paths.sourceFs);
      const inheritsAcls = owners.xattrs && xattrs.length === 0 && context.place.handsDownAcls();
      lost = refreshMetadata(source, ownerFor(source, owners), existing, final, xattrs, owners.xattrs, inheritsAcls);
    }
    stage = 'read';
    return { outcome: 'skipped', size: source.size, ...(lost !== 0 && { lost }), ...(digest && { digest: hashFile(final, buffer) }) };
  } catch (error) {
    return error instanceof SourceFailure ? failed(errorRecord(error.cause, 'read', paths.source)) : failed(errorRecord(error, stage, paths.final));
  }
}

/** Writes the open source `input` (and closes it) to the destination. */
export function writeRegularFile(
  input: number,
  source: SourceFile,
  paths: JobPaths,
  context: BatchContext,
  planned: JobResult,
  buffer: Buffer,
  pid: number,
  onBytes?: (copied: number) => void,
): JobResult {
  const { verify, digest, staged, owners } = context.settings;
  const hash = verify || digest ? createHash('sha256') : null;
  const temp = fsPath(writingPathFor(paths.name, pid, staged));
  const owner = ownerFor(source, owners);
  let output = -1;
  let created = false;
  let stage: Operation = 'write';
  try {
    // Set-id bits are given last: the kernel clears them when a user without CAP_FSETID writes data.
    const createMode = source.mode & ~SET_ID_BITS;
    output = createExclusive(temp, () => fs.openSync(temp, CREATE_FLAGS, createMode));
    created = true;
    const modeIsSet = context.place.keepsMode(output, createMode);
    const copied = source.sparse ? copySparse(input, output, buffer, hash, onBytes) : copyDense(input, output, buffer, source.size, hash, onBytes);
    // Read in one call, a file is what that read saw: its byte count says whether it grew or shrank.
    // Read in several, it may have been rewritten between them: its descriptor says (a stat a file
    // costs on a million small ones, so only there).
    const readInOne = source.size < buffer.length;
    if (copied !== source.size || (!readInOne && !unchangedSince(source, fs.fstatSync(input, { bigint: true })))) {
      fs.closeSync(output);
      output = -1;
      unlinkQuietly(temp);
      return sourceChanged(paths);
    }
    stage = 'set-metadata';
    // Attributes from the source's descriptor: one list call for a file that has none.
    const xattrs = sourceXattrs(context.settings, input);
    // chown clears set-user-ID and set-group-ID bits and a capability: the mode and attributes come after it.
    const lost = finishFile(output, source, owner, xattrs, !modeIsSet || source.mode !== createMode, context.place.handsDownAcls());
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
        return failed({ code: 'EVERIFY', message: 'the written copy differs from the source', operation: 'verify', path: paths.final });
      }
    }
    stage = 'rename';
    if (!staged) fs.renameSync(temp, fsPath(paths.name));
    if (lost !== 0) planned = { ...planned, lost };
    return digest ? { ...planned, digest: sourceDigest } : planned;
  } catch (error) {
    if (input >= 0) closeQuietly(input);
    if (output >= 0) closeQuietly(output);
    if (created) unlinkQuietly(temp);
    return failed(error instanceof SourceFailure ? errorRecord(error.cause, 'read', paths.source) : errorRecord(error, stage, paths.final));
  }
}

export function sourceChanged(paths: JobPaths): JobResult {
  return failed({ code: SOURCE_CHANGED, message: 'it changed while it was being copied', operation: 'read', path: paths.source });
}
