/**
 * The read/write loop of one file, in the worker's one buffer: dense, or
 * sparse (all-zero blocks become holes); or, for a dense file whose bytes
 * nobody hashes, the same loop with copy_file_range, as cp does: the data
 * never passes through the buffer, and btrfs and XFS share the blocks
 * instead of writing them. A read error is thrown as a SourceFailure, so the
 * caller reports it on the source's side.
 */
import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import { EINVAL, ENOSYS, EOPNOTSUPP, EXDEV, native } from '../shared/native.js';
import { SourceFailure } from './job-result.js';

const HOLE_BLOCK_BYTES = 4096;
const ZERO_BLOCK = Buffer.alloc(HOLE_BLOCK_BYTES);

function readInto(fd: number, buffer: Buffer, position: number | null): number {
  try {
    return fs.readSync(fd, buffer, 0, buffer.length, position);
  } catch (error) {
    throw new SourceFailure(error);
  }
}

/** What the block loop reads from and writes to, hashes the bytes with (--verify, --manifest), and tells of its progress. */
export interface BlockLoop {
  input: number;
  output: number;
  buffer: Buffer;
  hash: Hash | null;
  onChunk?: (copied: number) => void;
}

/** Reads until end of file; a short read ends the copy only once the size the stat gave is reached. Returns the bytes copied. */
export function copyDense({ input, output, buffer, hash, onChunk }: BlockLoop, statSize: number): number {
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
  return copied;
}

/** What copy_file_range answers for two files it will not copy between (other file system types, a FUSE server without it). */
const REFUSALS = new Set([EXDEV, EOPNOTSUPP, ENOSYS, EINVAL]);
/** Once refused, the process's files take the block loop: the run's trees stay where they are. */
let kernelRefuses = false;

/**
 * copyDense by copy_file_range, chunk for chunk (the same reads, the same end-of-file rule). Refused
 * before a byte, or failing midway, the block loop goes on from where it stopped: an error it meets
 * then is named on its side, source or destination.
 */
export function copyDenseInKernel(input: number, output: number, buffer: Buffer, statSize: number): number {
  const calls = kernelRefuses ? null : native();
  if (!calls) return copyDense({ input, output, buffer, hash: null }, statSize);
  let copied = 0;
  for (;;) {
    const chunk = calls.copyRange(input, output, buffer.length);
    if (chunk < 0) {
      if (copied === 0 && REFUSALS.has(-chunk)) kernelRefuses = true;
      return copied + copyDense({ input, output, buffer, hash: null }, statSize - copied);
    }
    copied += chunk;
    if (chunk === 0 || (chunk < buffer.length && copied >= statSize)) return copied;
  }
}

/** Like `cp --sparse=auto` for a source with holes: all-zero blocks are skipped and become holes. Returns the bytes copied. */
export function copySparse({ input, output, buffer, hash, onChunk }: BlockLoop): number {
  let position = 0;
  let read: number;
  while ((read = readInto(input, buffer, position)) > 0) {
    writeDataRuns(output, buffer, read, position);
    hash?.update(buffer.subarray(0, read));
    position += read;
    onChunk?.(position);
  }
  fs.ftruncateSync(output, position);
  return position;
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
