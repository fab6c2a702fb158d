/**
 * The writers of one regular file (copy-file.ts decides what is written): the
 * block loop, in the worker's one buffer or by copy_file_range; the kernel's copy
 * of a large file (a reflink where the file system has them, else
 * copy_file_range) on the thread pool, so the worker stays free to report how far
 * it has come; and, in the parent (BatchContext.inParent), the clone of a large
 * file made at once, or its hand-back for a forked worker: nothing there may hold
 * the event loop for seconds. Each ends the same way (complete): owner,
 * attributes, mode and times, the read-back of --verify (from the disk: read-back.ts),
 * the final name.
 */
import fs from 'node:fs';
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import { unchangedSince } from '../shared/metadata.js';
import { native } from '../shared/native.js';
import { statKey, type FileState } from '../shared/hash-state.js';
import type { JobResult } from '../shared/protocol.js';
import type { FsPath } from '../shared/raw-path.js';
import { writingPathFor } from '../shared/names-on-disk.js';
import { copyDense, copyDenseInKernel, copySparse } from './block-copy.js';
import { closeFd, fstat, openAt, pathOf, renameAt, sibling, statAt, statQuietly, unlinkAtQuietly, type Place } from './places.js';
import { closeQuietly, createExclusive, failed, READ_FLAGS, sha256, SourceFailure, type BatchContext, type FileCopy, type JobPaths } from './job-result.js';
import { finishFile } from './metadata-copy.js';
import { keepReplaced } from './keep-replaced.js';
import { readBack } from './read-back.js';

const { O_WRONLY, O_CREAT, O_EXCL, COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL;
const SET_ID_BITS = 0o6000;
const LARGE_FILE_POLL_MS = 100;
export const SOURCE_CHANGED = 'ESOURCECHANGED';

/** Closes the source, when it is open, on the way out with `result`. */
export function closing(fd: number, result: JobResult): JobResult {
  if (fd >= 0) closeQuietly(fd);
  return result;
}

/** The block loop: writes the open source `file.input` (and closes it) to a temporary file, then into place. */
export function writeBlocks(file: FileCopy, context: BatchContext): JobResult {
  const { verify, digest } = context.settings;
  const { buffer } = context;
  const { input, onBytes } = file;
  const source = file.sourceFile!;
  const hash = verify || digest ? sha256() : null;
  const temp = temporary(file, context);
  file.temp = temp;
  let output = -1;
  let created = false;
  try {
    // Set-id bits are given last: the kernel clears them when a user without CAP_FSETID writes data.
    const createMode = source.mode & ~SET_ID_BITS;
    output = createExclusive(temp, () => openAt(temp, CREATE_FLAGS, createMode));
    created = true;
    const modeIsSet = context.place.keepsMode(output, createMode);
    const copied = source.sparse
      ? copySparse({ input, output, buffer, hash, onChunk: onBytes })
      : hash || onBytes
        ? copyDense({ input, output, buffer, hash, onChunk: onBytes }, source.size)
        : copyDenseInKernel(input, output, buffer, source.size);
    // Read in one call, a file is what that read saw: its byte count says whether it grew or shrank.
    // Read in several, it may have been rewritten between them: its descriptor says (a stat a file
    // costs on a million small ones, so only there).
    const readInOne = source.size < buffer.length;
    if (copied !== source.size || (!readInOne && !unchangedSince(source, fstat(input)))) {
      closeFd(output);
      output = -1;
      unlinkAtQuietly(temp);
      return closing(input, sourceChanged(file));
    }
    const closed = output;
    output = -1;
    file.digest = hash?.digest('hex');
    return complete(file, context, closed, !modeIsSet || source.mode !== createMode);
  } catch (error) {
    if (output >= 0) closeQuietly(output);
    closeQuietly(input);
    if (created) unlinkAtQuietly(temp);
    return failed(error instanceof SourceFailure ? errorRecord(error.cause, 'read', file.source) : errorRecord(error, 'write', file.final));
  }
}

/** Once a clone is refused (ext4, another file system), the parent hands every large file back at once. */
let cloneRefused = false;

/**
 * In the parent: the open source `file.input` (closed after) cloned whole into a temporary file (a reflink,
 * made at once), then into place; where it cannot be, the job goes back for a forked worker to copy.
 */
export function cloneInParent(file: FileCopy, context: BatchContext): JobResult {
  const { input } = file;
  const source = file.sourceFile!;
  const calls = cloneRefused ? null : native();
  if (!calls) return closing(input, { outcome: 'largeForked', size: source.size });
  const temp = temporary(file, context);
  file.temp = temp;
  let output = -1;
  try {
    output = createExclusive(temp, () => openAt(temp, CREATE_FLAGS, source.mode & ~SET_ID_BITS));
    const errno = calls.clone(output, input);
    if (errno !== 0 || !unchangedSince(source, fstat(input)) || fstat(output).size !== source.size) {
      closeQuietly(output);
      unlinkAtQuietly(temp);
      if (errno === 0) return closing(input, sourceChanged(file));
      cloneRefused = true;
      return closing(input, { outcome: 'largeForked', size: source.size });
    }
  } catch (error) {
    return abandoned(file, output, errorRecord(error, 'write', file.final));
  }
  file.digest = undefined;
  return complete(file, context, output, true);
}

/** The kernel writes the open source `file.input` (closed after) to a temporary file, reporting its size (file.onBytes) as it grows. */
export async function writeInKernel(file: FileCopy, context: BatchContext): Promise<JobResult> {
  const { input } = file;
  const source = file.sourceFile!;
  const onBytes = file.onBytes!;
  const temp = temporary(file, context);
  file.temp = temp;
  const poll = setInterval(() => {
    const written = statAt(temp)?.size;
    if (written !== undefined) onBytes(written);
  }, LARGE_FILE_POLL_MS);
  try {
    // The source by its descriptor's own path: the kernel copies the very file opened and stat'ed above.
    await copyInKernel(fs.existsSync(`/proc/self/fd/${input}`) ? `/proc/self/fd/${input}` : pathOf(file.from), temp);
  } catch (error) {
    unlinkAtQuietly(temp);
    closeQuietly(input);
    return failed(sourceIsUnreadable(file.from) ? errorRecord(error, 'read', file.source) : errorRecord(error, 'write', file.final));
  } finally {
    clearInterval(poll);
  }
  let output = -1;
  try {
    // What the kernel made, by descriptor: never through a symlink put in its place.
    output = openAt(temp, READ_FLAGS);
    if (!unchangedSince(source, fstat(input)) || fstat(output).size !== source.size) {
      closeQuietly(output);
      unlinkAtQuietly(temp);
      return closing(input, sourceChanged(file));
    }
  } catch (error) {
    return abandoned(file, output, errorRecord(error, 'write', file.final));
  }
  file.digest = undefined;
  return complete(file, context, output, true);
}

/**
 * What every writer ends with, the data written to `file.temp`, open as `output`
 * (`chmod`: its mode is still to be given): owner, attributes, mode and times;
 * both descriptors closed; the copy read back (--verify); the final name.
 * Closes both descriptors whatever happens.
 */
function complete(file: FileCopy, context: BatchContext, output: number, chmod: boolean): JobResult {
  const { verify, digest, staged, backup } = context.settings;
  const temp = file.temp!;
  const sourceDigest = file.digest;
  let { input } = file;
  let result = file.decision!;
  let stage: Operation = 'set-metadata';
  try {
    // chown clears set-user-ID and set-group-ID bits and a capability: the mode and attributes come after it.
    const lost = finishFile(output, file, context, chmod);
    // close() can report a delayed write error (NFS, quota): it counts as a failed write.
    stage = 'write';
    // --verify reads the copy back from the disk: its data is written out first, so its cached pages can be dropped.
    if (verify) fs.fdatasyncSync(output);
    const closing = output;
    output = -1;
    closeFd(closing);
    closeFd(input);
    input = -1;
    if (verify) {
      stage = 'verify';
      const read = readBack(temp, context.buffer);
      if (read.digest !== sourceDigest) {
        unlinkAtQuietly(temp);
        return failed({ code: 'EVERIFY', message: 'the written copy differs from the source', operation: 'verify', path: file.final });
      }
      result = { ...result, verified: read.from };
    }
    if (!staged) {
      stage = 'backup';
      if (backup !== null && result.outcome === 'overwritten' && keepReplaced(file, backup)) result = { ...result, backedUp: true };
      stage = 'rename';
      renameAt(temp, file.to);
    }
    if (lost !== 0) result = { ...result, lost };
    if (!digest) return result;
    return { ...result, digest: sourceDigest, ...(sourceDigest && { state: writtenState(file, verify) }) };
  } catch (error) {
    if (input >= 0) closeQuietly(input);
    if (output >= 0) closeQuietly(output);
    unlinkAtQuietly(temp);
    return failed(error instanceof SourceFailure ? errorRecord(error.cause, 'read', file.source) : errorRecord(error, stage, file.final));
  }
}

/** What the next run may take the hash of this copy for: the source as it was read, the copy as it now stands at its name. */
function writtenState(file: FileCopy, readBack: boolean): FileState {
  const copy = statQuietly(file.to);
  return { source: statKey(file.sourceFile!), ...(copy && { destination: statKey(copy), ...(readBack && { readBack: true as const }) }) };
}

/** A write given up: both descriptors closed (the output's if open), the temporary file removed. */
function abandoned(file: FileCopy, output: number, error: ErrorRecord): JobResult {
  if (output >= 0) closeQuietly(output);
  closeQuietly(file.input);
  unlinkAtQuietly(file.temp!);
  return failed(error);
}

/** Where the file is written: its temporary name, or its own name in a staged copy. */
export function temporary(paths: JobPaths, context: BatchContext): Place {
  const { name } = paths.to;
  const raw = typeof name === 'string' ? name : name.toString('latin1');
  return context.settings.staged ? paths.to : sibling(paths.to, writingPathFor(raw, context.pid, false));
}

function sourceChanged(paths: JobPaths): JobResult {
  return failed({ code: SOURCE_CHANGED, message: 'it changed while it was being copied', operation: 'read', path: paths.source });
}

/** The source by its descriptor's path; where /proc/self/fd does not exist, by its own. */
async function copyInKernel(byDescriptor: FsPath, temp: Place): Promise<void> {
  const flags = COPYFILE_EXCL | COPYFILE_FICLONE;
  try {
    await fs.promises.copyFile(byDescriptor, pathOf(temp), flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkAtQuietly(temp);
    await fs.promises.copyFile(byDescriptor, pathOf(temp), flags);
  }
}

/** copyFile reports both paths on failure; this tells which side it was. */
function sourceIsUnreadable(source: Place): boolean {
  try {
    fs.accessSync(pathOf(source), fs.constants.R_OK);
    return false;
  } catch {
    return true;
  }
}
