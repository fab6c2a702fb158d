/**
 * Copies a large file (sent alone by the parent) in the kernel: a reflink where
 * the file system has them, else copy_file_range, on the thread pool, so the
 * worker stays free to report how far the copy has come. A sparse source, or
 * one whose content must be hashed, goes through copy-file.ts's block loop.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { errorRecord, type Operation } from '../shared/errors.js';
import type { FileJob } from '../shared/jobs.js';
import { ownerFor, unchangedSince } from '../shared/metadata.js';
import type { JobResult } from '../shared/protocol.js';
import { fsPath, type FsPath } from '../shared/raw-path.js';
import { unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import type { Xattr } from '../shared/xattrs.js';
import { ATTEMPTS, closing, decideFile, handBack, openSource, SOURCE_CHANGED, sourceChanged, statSource, writeRegularFile } from './copy-file.js';
import { closeQuietly, failed, isWrite, READ_FLAGS, SourceFailure, type BatchContext, type JobPaths } from './job-result.js';
import { finishFile, sourceXattrs } from './metadata-copy.js';

const { COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
const LARGE_FILE_POLL_MS = 100;

export async function copyLargeFile(
  job: FileJob,
  paths: JobPaths,
  context: BatchContext,
  buffer: Buffer,
  pid: number,
  onBytes: (copied: number) => void,
): Promise<JobResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await copyLargeOnce(job, paths, context, buffer, pid, onBytes);
    if (result.error?.code !== SOURCE_CHANGED || attempt === ATTEMPTS) return result;
  }
}

async function copyLargeOnce(
  job: FileJob,
  paths: JobPaths,
  context: BatchContext,
  buffer: Buffer,
  pid: number,
  onBytes: (copied: number) => void,
): Promise<JobResult> {
  const input = openSource(paths);
  if (typeof input !== 'number') return failed(input);
  const source = statSource(paths, input);
  if ('code' in source) return closing(input, failed(source));
  const early = handBack(job, source);
  if (early) return closing(input, early);
  const planned = decideFile(job, source, paths, context, buffer);
  const { dryRun, verify, digest, staged, owners } = context.settings;
  if (!isWrite(planned) || dryRun) return closing(input, planned);
  if (source.sparse || verify || digest) return writeRegularFile(input, source, paths, context, planned, buffer, pid, onBytes);
  const temp = fsPath(writingPathFor(paths.name, pid, staged));
  const poll = setInterval(() => {
    const written = fs.statSync(temp, { throwIfNoEntry: false })?.size;
    if (written !== undefined) onBytes(written);
  }, LARGE_FILE_POLL_MS);
  try {
    // By the descriptor's own path: the kernel copies the very file opened and stat'ed above.
    await copyInKernel(`/proc/self/fd/${input}`, paths.sourceFs, temp);
  } catch (error) {
    unlinkQuietly(temp);
    closeQuietly(input);
    return failed(sourceIsUnreadable(paths.sourceFs) ? errorRecord(error, 'read', paths.source) : errorRecord(error, 'write', paths.final));
  } finally {
    clearInterval(poll);
  }
  let now: BigIntStats;
  let xattrs: Xattr[];
  try {
    now = fs.fstatSync(input, { bigint: true });
    xattrs = sourceXattrs(context.settings, input);
  } catch (error) {
    unlinkQuietly(temp);
    return failed(errorRecord(error instanceof SourceFailure ? error.cause : error, 'stat', paths.source));
  } finally {
    closeQuietly(input);
  }
  let output = -1;
  let stage: Operation = 'write';
  try {
    // What copyFile made, by descriptor: never through a symlink put in its place.
    output = fs.openSync(temp, READ_FLAGS);
    if (!unchangedSince(source, now) || Number(fs.fstatSync(output, { bigint: true }).size) !== source.size) {
      unlinkQuietly(temp);
      return sourceChanged(paths);
    }
    stage = 'set-metadata';
    const lost = finishFile(output, source, ownerFor(source, owners), xattrs, true, context.place.handsDownAcls());
    stage = 'rename';
    if (!staged) fs.renameSync(temp, fsPath(paths.name));
    return lost === 0 ? planned : { ...planned, lost };
  } catch (error) {
    unlinkQuietly(temp);
    return failed(errorRecord(error, stage, paths.final));
  } finally {
    if (output >= 0) closeQuietly(output);
  }
}

/** Where /proc/self/fd does not exist, the kernel copies the source by its path. */
async function copyInKernel(byDescriptor: string, byPath: FsPath, temp: FsPath): Promise<void> {
  const source = fs.existsSync(byDescriptor) ? byDescriptor : byPath;
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
