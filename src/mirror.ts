/**
 * --delete: after a successful copy, removes what the destination holds and the
 * source no longer does. Only directories the walk went through are compared,
 * name by name against the source's listing, so an excluded directory (never
 * listed) is never looked into, and an excluded name inside a listed one is kept.
 */
import fs from 'node:fs';
import type { TreeFilter } from './filter.js';
import { errorRecord, type ErrorRecord } from './protocol.js';
import { fsPath, joinRaw, rawFromBytes, type RawPath } from './raw-path.js';
import { TEMP_NAME } from './temp-name.js';

export interface Deletion {
  /** Relative to the destination root. */
  path: RawPath;
  isDirectory: boolean;
}

export interface ExtraneousEntries {
  /** Deepest first, so each directory is empty by the time its turn comes. */
  deletions: Deletion[];
  failures: ErrorRecord[];
}

/**
 * `directories`: where to compare; `inTheWay`: destination directories standing
 * where the source has a file or link now, deleted whole.
 */
export function findExtraneous(
  source: RawPath,
  destination: RawPath,
  directories: Iterable<RawPath>,
  inTheWay: readonly RawPath[],
  filter: TreeFilter | null,
): ExtraneousEntries {
  const deletions: Deletion[] = [];
  const failures: ErrorRecord[] = [];
  for (const directory of inTheWay) collect(destination, directory, true, filter, deletions, failures);
  for (const directory of directories) {
    let inSource: Set<RawPath>;
    let atDestination: fs.Dirent<Buffer>[];
    try {
      inSource = new Set(fs.readdirSync(fsPath(joinRaw(source, directory)), { encoding: 'buffer' }).map(rawFromBytes));
    } catch (error) {
      failures.push(errorRecord(error, 'list', joinRaw(source, directory)));
      continue;
    }
    try {
      atDestination = fs.readdirSync(fsPath(joinRaw(destination, directory)), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      // Not at the destination (a dry run, or --include made no copy of it): nothing to delete there.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') failures.push(errorRecord(error, 'list', joinRaw(destination, directory)));
      continue;
    }
    for (const dirent of atDestination) {
      const name = rawFromBytes(dirent.name);
      if (inSource.has(name) || TEMP_NAME.test(name)) continue;
      collect(destination, childOf(directory, name), dirent.isDirectory(), filter, deletions, failures);
    }
  }
  return { deletions, failures };
}

/** Adds an entry and, for a directory, its contents; returns false when something in it must stay. */
function collect(
  destination: RawPath,
  relative: RawPath,
  isDirectory: boolean,
  filter: TreeFilter | null,
  deletions: Deletion[],
  failures: ErrorRecord[],
): boolean {
  if (filter?.excludes(relative, isDirectory)) return false;
  let whole = true;
  if (isDirectory) {
    let children: fs.Dirent<Buffer>[];
    try {
      children = fs.readdirSync(fsPath(joinRaw(destination, relative)), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      failures.push(errorRecord(error, 'list', joinRaw(destination, relative)));
      return false;
    }
    for (const child of children) {
      if (!collect(destination, childOf(relative, rawFromBytes(child.name)), child.isDirectory(), filter, deletions, failures)) whole = false;
    }
  }
  if (whole) deletions.push({ path: relative, isDirectory });
  return whole;
}

export function deleteEntry(destination: RawPath, deletion: Deletion): ErrorRecord | null {
  const path = joinRaw(destination, deletion.path);
  try {
    if (deletion.isDirectory) fs.rmdirSync(fsPath(path));
    else fs.unlinkSync(fsPath(path));
    return null;
  } catch (error) {
    return errorRecord(error, 'delete', path);
  }
}

function childOf(relativeDirectory: RawPath, name: RawPath): RawPath {
  return relativeDirectory === '' ? name : `${relativeDirectory}/${name}`;
}
