/**
 * Every file is written under a temporary name in its destination directory and
 * renamed into place when complete, so no fault leaves a partial file at a final
 * name. The name says what it is, and carries the writing worker's pid so the
 * parent can sweep a dead worker's leftovers and a later run can recognise them.
 */
import fs from 'node:fs';
import { sep } from 'node:path';
import type { FsPath, RawPath } from './raw-path.js';

export const TEMP_NAME_SUFFIX = '.foldercopy-part';
// Leaves room for the dot, the pid and the suffix within the usual 255-byte name limit.
const MAX_NAME_BYTES_KEPT = 200;

export const TEMP_NAME = /^\..*\.\d+\.foldercopy-part$/s;

export function tempPathFor(finalPath: RawPath, pid: number): RawPath {
  const nameStart = Math.max(finalPath.lastIndexOf('/'), finalPath.lastIndexOf(sep)) + 1;
  const name = finalPath.slice(nameStart, nameStart + MAX_NAME_BYTES_KEPT);
  return `${finalPath.slice(0, nameStart)}.${name}.${pid}${TEMP_NAME_SUFFIX}`;
}

/**
 * Where a worker writes an entry: under its temporary name, or, when the whole
 * tree is staged under a temporary directory name (RunSettings.staged), at its
 * name inside it, with nothing to rename.
 */
export function writingPathFor(finalPath: RawPath, pid: number, staged: boolean): RawPath {
  return staged ? finalPath : tempPathFor(finalPath, pid);
}

export function unlinkQuietly(path: FsPath): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Nothing to remove, or the original failure is the one worth reporting.
  }
}
