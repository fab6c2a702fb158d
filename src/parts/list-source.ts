/**
 * One listing of the source for a plan: the copy's own walk (source/walk.ts),
 * with its filters, and an lstat of every entry, since a plan weighs files by
 * their size and keeps a file's names together by their inode. What cannot be
 * listed or stat'ed is a failure, as in a copy.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import { fsPath, joinRaw, parentOf, type RawPath } from '../shared/raw-path.js';
import type { Selection } from '../source/selection.js';
import { walk, type ListingFilter } from '../source/walk.js';
import type { PlannedDirectory, PlannedEntry, PlannedType } from './format.js';

export interface SourceListing {
  /** Parents before children; the root ('') first. */
  directories: PlannedDirectory[];
  /** The files, symlinks and special files, each with the device it is on (names of one file share device and inode). */
  entries: Array<PlannedEntry & { dev: number }>;
  failures: ErrorRecord[];
}

export interface ListSourceOptions {
  filter: ListingFilter | null;
  selection: Selection | null;
  oneFileSystem: boolean;
}

export async function listSource(source: RawPath, options: ListSourceOptions): Promise<SourceListing> {
  const listing: SourceListing = { directories: [], entries: [], failures: [] };
  // Every directory planned: one below a directory that could not be is left out with it (its failure says why).
  const planned = new Set<RawPath>();
  for await (const item of walk(source, options)) {
    if (item.kind === 'failure') {
      listing.failures.push(item.error);
      continue;
    }
    const { directory, entries } = item;
    const parent = parentOf(directory.path);
    if (parent !== null && !planned.has(parent)) continue;
    const at = joinRaw(source, directory.path);
    // The root is followed, as the walk follows it.
    const stats = lookUp(at, listing.failures, directory.path === '' ? 'stat' : 'lstat');
    if (!stats) continue;
    if (!stats.isDirectory()) {
      // Replaced since the walk listed it (by a symlink, say): planned as it was, it would be copied as it is not.
      listing.failures.push({ code: 'ECHANGED', message: 'it is no longer a directory', operation: 'list', path: at });
      continue;
    }
    planned.add(directory.path);
    listing.directories.push({ path: directory.path, mode: Number(stats.mode), uid: Number(stats.uid), gid: Number(stats.gid), mtimeNs: stats.mtimeNs, ino: Number(stats.ino) });
    for (const entry of entries) {
      const found = lookUp(joinRaw(source, entry.path), listing.failures, 'lstat');
      if (!found) continue;
      listing.entries.push({
        path: entry.path,
        type: typeOf(found),
        // A symlink's size is its target's length: the check sees a retargeted link by it.
        size: found.isFile() || found.isSymbolicLink() ? Number(found.size) : 0,
        mtimeNs: found.mtimeNs,
        mode: Number(found.mode),
        ino: Number(found.ino),
        nlink: Number(found.nlink),
        dev: Number(found.dev),
      });
    }
  }
  return listing;
}

function lookUp(at: RawPath, failures: ErrorRecord[], how: 'stat' | 'lstat'): BigIntStats | undefined {
  try {
    return how === 'stat' ? fs.statSync(fsPath(at), { bigint: true }) : fs.lstatSync(fsPath(at), { bigint: true });
  } catch (error) {
    failures.push(errorRecord(error, 'stat', at));
    return undefined;
  }
}

function typeOf(stats: BigIntStats): PlannedType {
  if (stats.isFile()) return 'file';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}
