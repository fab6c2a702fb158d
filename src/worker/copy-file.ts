/**
 * Copies one regular file: one pipeline, two writers. When something is
 * already at the destination name (Job.mayExist), up-to-date.ts decides first
 * whether it stays. Runs a million times per big tree, so the common path is a
 * short run of synchronous calls (an async call per step costs a thread-pool
 * round trip): open the source, read its stats from the descriptor, create the
 * temporary file, read, write, check the source did not change meanwhile, set
 * times on the descriptor, close, rename into place. This file opens, looks and
 * decides, and retries a source rewritten while it was read; write-file.ts
 * holds the writers: the block loop, the kernel's copy of a large file, and the
 * parent's clone.
 *
 * Never throws: a failure comes back as a record naming the path and the
 * operation. Every call goes through the descriptor of the entry's directory
 * (places.ts): nothing is followed where a symlink was planted.
 */
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import { LARGE_FILE_BYTES, type FileJob } from '../shared/jobs.js';
import { ownerFor, sourceFileFromStats, type SourceFile } from '../shared/metadata.js';
import { ENOENT, errnoError, S_IFREG, type EntryStats } from '../shared/native.js';
import type { JobResult } from '../shared/protocol.js';
import { fstat, openAt, statAt, statQuietly, target } from './places.js';
import { attributeChanges, keptAsIs, UNCHANGED } from './itemize.js';
import { failed, hashFile, isWrite, SOURCE_READ_FLAGS, SourceFailure, type BatchContext, type FileCopy, type JobPaths } from './job-result.js';
import { sourceXattrs } from './metadata-copy.js';
import { linkFromDests } from './link-dest.js';
import { existingAt, keptAsCurrent, keepsFile, refreshMetadata } from './up-to-date.js';
import { hashSource, readBack } from './read-back.js';
import { keptState, vouched, type Vouched } from './recorded.js';
import { cloneInParent, closing, SOURCE_CHANGED, writeBlocks, writeInKernel } from './write-file.js';

// A source rewritten while it is read is copied again, this many times in all, then failed.
const ATTEMPTS = 3;

/**
 * Copies the file; synchronously, except a large one (`file.onBytes` given: its
 * progress) that the kernel writes, which is a promise.
 */
export function copyFile(job: FileJob, file: FileCopy, context: BatchContext): JobResult | Promise<JobResult> {
  return attempt(job, file, context, 1);
}

function attempt(job: FileJob, file: FileCopy, context: BatchContext, n: number): JobResult | Promise<JobResult> {
  const result = copyOnce(job, file, context);
  if (result instanceof Promise) return result.then((done) => (again(done, n) ? attempt(job, file, context, n + 1) : done));
  return again(result, n) ? attempt(job, file, context, n + 1) : result;
}

function again(result: JobResult, n: number): boolean {
  return result.error?.code === SOURCE_CHANGED && n < ATTEMPTS;
}

function copyOnce(job: FileJob, file: FileCopy, context: BatchContext): JobResult | Promise<JobResult> {
  const { dryRun } = context.settings;
  // A first copy opens the source at once and reads its stats from the descriptor;
  // a file that may exist already, or a dry run, may not need the content: it looks first.
  // With --link-dest, a file that is linked is never read: it is looked at first too.
  let input = job.mayExist || dryRun || context.linkDests ? -1 : openSource(file);
  if (typeof input !== 'number') return failed(input);
  const source = statSource(file, input);
  if ('code' in source) return closing(input, failed(source));
  const handedBack = handBack(job, source, context);
  if (handedBack) return closing(input, handedBack);
  const decision = decideFile(job, source, file, context);
  if (decision.outcome === 'created' && context.linkDests && job.path !== '') {
    file.sourceFile = source;
    const linked = linkFromDests(context.linkDests, file, context);
    if (linked) return closing(input, linked);
  }
  if (!isWrite(decision) || dryRun) return closing(input, decision);
  if (input < 0) input = openSource(file);
  if (typeof input !== 'number') return failed(input);
  // What the writers take: the object the job came with, no other.
  file.input = input;
  file.sourceFile = source;
  file.decision = decision;
  if (job.large && context.inParent) return cloneInParent(file, context);
  if (file.onBytes && inKernel(source, context)) return writeInKernel(file, context);
  return writeBlocks(file, context);
}

/** The source opened for reading, or why it cannot be. */
function openSource(paths: JobPaths): number | ErrorRecord {
  try {
    return openAt(paths.from, SOURCE_READ_FLAGS);
  } catch (error) {
    return errorRecord(error, 'read', paths.source);
  }
}


/** The source's stats, from its descriptor when it is open; a source that is no longer a regular file fails. */
function statSource(paths: JobPaths, fd: number): SourceFile | ErrorRecord {
  let stats;
  try {
    stats = fd >= 0 ? fstat(fd) : statAt(paths.from);
  } catch (error) {
    return errorRecord(error, 'stat', paths.source);
  }
  if (stats === null) return errorRecord(errnoError(ENOENT, 'lstat'), 'stat', paths.source);
  if ((stats.mode & 0o170000) !== 0o100000) return { code: 'ECHANGED', message: 'it is no longer a regular file', operation: 'stat', path: paths.source };
  return sourceFileFromStats(stats);
}

/** A file the parent must schedule itself (see FileJob): handed back, untouched. */
function handBack(job: FileJob, source: SourceFile, context: BatchContext): JobResult | null {
  if (source.inode !== undefined && !job.firstName) return { outcome: 'otherNames', size: source.size, inode: source.inode };
  if (source.size >= LARGE_FILE_BYTES && !job.large) return { outcome: inKernel(source, context) ? 'large' : 'largeForked', size: source.size };
  return null;
}

/** A large file the kernel writes (a reflink, or copy_file_range), off the event loop; a sparse or hashed one takes the block loop. */
function inKernel(source: SourceFile, context: BatchContext): boolean {
  return !source.sparse && !context.settings.verify && !context.settings.digest;
}

/** Created or overwritten when the file is to be written; otherwise the job's final result: kept as it is, or a failure. */
function decideFile(job: FileJob, source: SourceFile, paths: JobPaths, context: BatchContext): JobResult {
  if (!job.mayExist) return { outcome: 'created', size: source.size };
  const { overwrite, modifyWindow, dryRun, digest, owners } = context.settings;
  let stage: Operation = 'stat';
  try {
    const existing = existingAt(paths.to);
    if (!existing) return { outcome: 'created', size: source.size };
    // A previous run's hash, where the stats of a side are all unchanged: that side is not read.
    const known = job.recorded ? vouched(job.recorded, source, existing, paths) : null;
    const check = { policy: overwrite, modifyWindow, source: paths.from, destination: paths.to, buffer: context.buffer, sameContent: known?.source === true && known.destination };
    if (!keepsFile(source, existing, check)) {
      const replaced: JobResult = { outcome: 'overwritten', size: source.size };
      if (context.settings.itemize) replaced.changes = fileChanges(source, existing, paths, context, overwrite === 'checksum');
      return replaced;
    }
    // Looked at before the refresh below makes them the same.
    const changes = context.settings.itemize ? (keptAsIs(overwrite) ? UNCHANGED : fileChanges(source, existing, paths, context, false)) : undefined;
    stage = 'set-metadata';
    let lost = 0;
    if ((overwrite === 'changed' || overwrite === 'checksum') && !dryRun) {
      const xattrs = sourceXattrs(context.settings, { dir: paths.from.dir.fd, name: paths.from.name });
      const inheritsAcls = owners.xattrs && xattrs.length === 0 && context.place.handsDownAcls(paths.to.dir);
      lost = refreshMetadata(source, existing, paths.to, { owner: ownerFor(source, owners), xattrs, withXattrs: owners.xattrs, inheritsAcls, modifyWindow });
    }
    stage = 'read';
    if (!keptAsCurrent(source, existing, check)) {
      const copyDigest = digest ? (known?.destination ? known.hash : hashFile(paths.to, context.buffer)) : undefined;
      return { outcome: 'skipped', size: source.size, ...(lost !== 0 && { lost }), ...(copyDigest && { digest: copyDigest }), ...(changes && { changes }) };
    }
    const kept = checkKept(source, paths, context, { known, existing });
    if (kept.outcome === 'skipped' && lost !== 0) kept.lost = lost;
    if (changes !== undefined) kept.changes = changes;
    return kept;
  } catch (error) {
    return error instanceof SourceFailure ? failed(errorRecord(error.cause, 'read', paths.source)) : failed(errorRecord(error, stage, paths.final));
  }
}

/** --itemize-changes: what differs between the source and the file at its name (worker/itemize.ts). */
function fileChanges(source: SourceFile, existing: EntryStats, paths: JobPaths, context: BatchContext, contentDiffers: boolean): string {
  const { owners, modifyWindow } = context.settings;
  const xattrs = owners.xattrs ? { source: { dir: paths.from.dir.fd, name: paths.from.name }, destination: target(paths.to) } : null;
  return attributeChanges({ type: S_IFREG, source, existing, owners, modifyWindow, contentDiffers, xattrs });
}

/**
 * A file kept as up to date, which must match its source: under --verify, both are read (the copy from
 * the disk, read-back.ts), and a copy that differs all the same (corrupted since, its size and time
 * unchanged) is rewritten from the source and reported (EVERIFY): "0 failed" means the whole
 * destination matches. A manifest gets the source's hash, so `sha256sum -c` never blesses such a copy.
 * A side a previous run's record still vouches for (`known`) is not read: its recorded hash stands in.
 */
function checkKept(source: SourceFile, paths: JobPaths, context: BatchContext, { known, existing }: { known: Vouched | null; existing: EntryStats }): JobResult {
  const { verify, digest, overwrite } = context.settings;
  if (!verify && !digest) return { outcome: 'skipped', size: source.size };
  const sourceDigest = known?.source ? known.hash : hashSource(paths.from, context.buffer);
  if (!verify) {
    // Both sides vouched for, or compared by --checksum (after `existing` was taken): the copy holds the source's content.
    const sameAsSource = overwrite === 'checksum' || (known?.source === true && known.destination);
    return { outcome: 'skipped', size: source.size, digest: sourceDigest, state: keptState(source, paths.to, sameAsSource ? existing : null, known?.readBack === true) };
  }
  // The copy as it is before it is read: what the next run's record may vouch for.
  const copyBefore = digest ? statQuietly(paths.to) : null;
  const read = known?.readBack ? null : readBack(paths.to, context.buffer);
  const copyDigest = read ? read.digest : known!.hash;
  if (copyDigest === sourceDigest) {
    const verified = read ? read.from : 'record';
    return { outcome: 'skipped', size: source.size, verified, ...(digest && { digest: sourceDigest, state: keptState(source, paths.to, copyBefore, true) }) };
  }
  const error: ErrorRecord = {
    code: 'EVERIFY',
    message: 'the copy differed from the source although its size and time matched: it was written again',
    operation: 'verify',
    path: paths.final,
  };
  return { outcome: 'overwritten', size: source.size, error };
}
