/**
 * One listing of the source for a plan: the copy's own walk (source/walk.ts),
 * with its filters, and a stat of every entry, since a plan weighs files by
 * their size and keeps a file's names together by their inode (source/tree-stats.ts).
 * What cannot be listed or stat'ed is a failure, as in a copy.
 */
import type { ErrorRecord } from '../shared/errors.js';
import { joinRaw, parentOf, type RawPath } from '../shared/raw-path.js';
import { kindOf, treeStats } from '../source/tree-stats.js';
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
  const stat = treeStats(source);
  // Every directory planned: one below a directory that could not be is left out with it (its failure says why).
  const planned = new Set<RawPath>();
  try {
    for await (const item of walk(source, options)) {
      if (item.kind === 'failure') {
        listing.failures.push(item.error);
        continue;
      }
      const { directory, entries } = item;
      const parent = parentOf(directory.path);
      if (parent !== null && !planned.has(parent)) continue;
      const at = joinRaw(source, directory.path);
      const stats = stat.directory(directory.path, at, listing.failures);
      if (!stats) continue;
      planned.add(directory.path);
      listing.directories.push({ path: directory.path, mode: stats.mode, uid: stats.uid, gid: stats.gid, mtimeNs: stats.mtimeNs, ino: stats.ino });
      for (const entry of entries) {
        const found = stat.entry(directory.path, entry.path, listing.failures);
        if (!found) continue;
        const kind = kindOf(found.mode);
        const type: PlannedType = kind === 'directory' ? 'other' : kind;
        listing.entries.push({
          path: entry.path,
          type,
          // A symlink's size is its target's length: the check sees a retargeted link by it.
          size: type === 'other' ? 0 : found.size,
          mtimeNs: found.mtimeNs,
          mode: found.mode,
          ino: found.ino,
          nlink: found.nlink,
          dev: found.dev,
        });
      }
    }
  } finally {
    stat.close();
  }
  return listing;
}
