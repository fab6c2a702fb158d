/**
 * A guard against the cp habit `foldercopy ../lib .`, which would pour the
 * contents of lib into the current directory and replace its own README.md with
 * lib's: before anything is written, a copy into a directory that already holds
 * entries is refused when it would replace files there and the directory does
 * not look like an earlier copy of this source.
 *
 * The destination looks like an earlier copy when, at its top level, an entry is
 * identical to the source's (a file of the same size and mtime, a symlink with
 * the same target: what a copy that keeps times leaves), or at least half of its
 * entries are names the source has, each of the same kind, and each file the
 * copy would replace there is older than the source's (a copy's file has the
 * mtime its source had, and a source changed since has a later one; two files
 * written side by side within the same clock tick have the same). Re-runs, a
 * rebuilt tree copied again and a fresh directory all pass; a directory with
 * its own files does not. Only then are the shared directories searched, breadth first and
 * for a bounded number of entries, for files that would be replaced, to name a
 * few in the refusal. It runs once, before the copy: nothing per file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';
import { sameMtime } from '../shared/metadata.js';
import { childPath, fsPath, joinRaw, pathText, rawFromBytes, type RawPath } from '../shared/raw-path.js';
import { isOurName } from '../shared/names-on-disk.js';
import type { TreeFilter } from '../source/filter.js';

// Names stat'ed at most, at the top level and again below it: enough to decide and to name a few replaced files, cheap on any tree.
const SEARCH_BUDGET = 2_000;
const NAMED = 3;

/** What the comparison leaves out (the user's filters), and how far apart times may be and still be the same (--modify-window). */
export interface Looking {
  filter: TreeFilter | null;
  modifyWindow: number;
}

/** How one name both sides hold compares. */
type Pairing = 'identical' | 'replaced' | 'directories' | 'kept';

interface TopLevel {
  /** The destination's names (ours and excluded ones left out). */
  names: number;
  /** Those the source has too, of the same kind. */
  sameKind: number;
  identical: boolean;
  /** A file the copy would replace is not older at the destination than in the source. */
  notOlderThere: boolean;
  replaced: RawPath[];
  /** Directories both sides have, to search for replaced files. */
  directories: RawPath[];
}

/**
 * Throws OVERWRITE_REFUSED when the copy would replace files in a destination
 * that does not look like an earlier copy of the source. `shown`: the source and
 * destination as the user named them.
 */
export function checkOverwriteTarget(source: RawPath, destination: RawPath, looking: Looking, shown: { source: string; destination: string }): void {
  const top = compareTop(source, destination, looking);
  if (!top || top.names === 0 || isEarlierCopy(top)) return;
  const replaced = [...top.replaced, ...searchBelow(source, destination, looking, top.directories, NAMED + 1 - top.replaced.length)];
  if (replaced.length === 0) return;
  const listed = replaced
    .slice(0, NAMED)
    .map((relative) => path.join(shown.destination, pathText(relative)))
    .join(', ');
  const more = replaced.length > NAMED ? ', …' : '';
  // `./lib`, not `lib`, for the current directory: a path that reads as one.
  const itself = `${shown.destination === '.' ? './' : ''}${path.join(shown.destination, path.basename(path.resolve(shown.source)))}`;
  throw new FoldercopyError(
    'OVERWRITE_REFUSED',
    `refusing to overwrite files in ${shown.destination}, which does not look like an earlier copy of ${shown.source}: ${listed}${more} would be replaced; ` +
      `to copy the folder itself, use ${itself}; to overwrite them, give the overwrite option`,
    shown.destination,
  );
}

/** Whether the destination, a directory holding entries, looks like an earlier copy of the source (the rule above). */
export function looksLikeEarlierCopy(source: RawPath, destination: RawPath, looking: Looking): boolean {
  const top = compareTop(source, destination, looking);
  return top !== undefined && top.names > 0 && isEarlierCopy(top);
}

function isEarlierCopy(top: TopLevel): boolean {
  return top.identical || (top.sameKind * 2 >= top.names && !top.notOlderThere);
}

/**
 * Kinds come from the directory listings; only names both sides hold as
 * non-directories are stat'ed, until the first identical one (a re-run stops
 * there) and for at most SEARCH_BUDGET names, so a huge top level costs little.
 */
function compareTop(source: RawPath, destination: RawPath, { filter, modifyWindow }: Looking): TopLevel | undefined {
  let atDestination: fs.Dirent<Buffer>[];
  let inSource: Map<RawPath, string>;
  try {
    atDestination = fs.readdirSync(fsPath(destination), { encoding: 'buffer', withFileTypes: true });
    inSource = new Map(fs.readdirSync(fsPath(source), { encoding: 'buffer', withFileTypes: true }).map((dirent) => [rawFromBytes(dirent.name), kindOf(dirent)]));
  } catch {
    // Nothing there yet, or not a directory: preflight and the copy say so.
    return undefined;
  }
  const top: TopLevel = { names: 0, sameKind: 0, identical: false, notOlderThere: false, replaced: [], directories: [] };
  const files: RawPath[] = [];
  for (const dirent of atDestination) {
    const name = rawFromBytes(dirent.name);
    if (isOurName(name) || filter?.excludes(name, dirent.isDirectory())) continue;
    top.names++;
    const kind = inSource.get(name);
    if (kind === undefined) continue;
    if (kind === kindOf(dirent)) top.sameKind++;
    if (kind === 'directory' && dirent.isDirectory()) top.directories.push(name);
    else if (kind !== 'directory' && !dirent.isDirectory()) files.push(name);
  }
  for (const name of files.slice(0, SEARCH_BUDGET)) {
    const pair = pairOf(joinRaw(source, name), joinRaw(destination, name), modifyWindow);
    if (pair?.pairing === 'identical') {
      top.identical = true;
      break;
    }
    if (pair?.pairing !== 'replaced') continue;
    top.replaced.push(name);
    if (!pair.olderThere) top.notOlderThere = true;
  }
  return top;
}

function kindOf(dirent: fs.Dirent<Buffer>): string {
  return dirent.isDirectory() ? 'directory' : dirent.isFile() ? 'file' : dirent.isSymbolicLink() ? 'symlink' : 'other';
}

/** Both sides of one name; undefined when either cannot be looked at (the copy reports it). */
function pairOf(source: RawPath, destination: RawPath, modifyWindow: number): { pairing: Pairing; olderThere: boolean } | undefined {
  let from: fs.BigIntStats;
  let there: fs.BigIntStats;
  try {
    from = fs.lstatSync(fsPath(source), { bigint: true });
    there = fs.lstatSync(fsPath(destination), { bigint: true });
  } catch {
    return undefined;
  }
  const olderThere = there.mtimeNs < from.mtimeNs && !sameMtime(from.mtimeNs, there.mtimeNs, modifyWindow);
  if (from.isDirectory() || there.isDirectory()) {
    // A directory is merged into, never replaced; one in the way of a file fails that entry alone.
    return { pairing: from.isDirectory() && there.isDirectory() ? 'directories' : 'kept', olderThere: true };
  }
  if (from.isFile() && there.isFile() && from.size === there.size && sameMtime(from.mtimeNs, there.mtimeNs, modifyWindow)) {
    return { pairing: 'identical', olderThere };
  }
  if (from.isSymbolicLink() && there.isSymbolicLink() && fs.readlinkSync(fsPath(source), 'buffer').equals(fs.readlinkSync(fsPath(destination), 'buffer'))) {
    return { pairing: 'identical', olderThere };
  }
  // Special files are never copied, so never replace anything.
  if (!(from.isFile() || from.isSymbolicLink())) return { pairing: 'kept', olderThere: true };
  return { pairing: 'replaced', olderThere };
}

/** Up to `wanted` files below the shared directories that the copy would replace, breadth first, within the budget. */
function searchBelow(source: RawPath, destination: RawPath, { filter, modifyWindow }: Looking, directories: RawPath[], wanted: number): RawPath[] {
  const replaced: RawPath[] = [];
  const queue = [...directories];
  let budget = SEARCH_BUDGET;
  while (queue.length > 0 && replaced.length < wanted && budget > 0) {
    const directory = queue.shift()!;
    let names: RawPath[];
    try {
      names = fs.readdirSync(fsPath(joinRaw(destination, directory)), { encoding: 'buffer' }).map(rawFromBytes);
    } catch {
      continue;
    }
    for (const name of names) {
      if (replaced.length >= wanted || budget-- <= 0) break;
      const relative = childPath(directory, name);
      if (isOurName(name)) continue;
      const pair = pairOf(joinRaw(source, relative), joinRaw(destination, relative), modifyWindow);
      if (!pair || filter?.excludes(relative, pair.pairing === 'directories')) continue;
      if (pair.pairing === 'replaced') replaced.push(relative);
      else if (pair.pairing === 'directories') queue.push(relative);
    }
  }
  return replaced;
}
