/**
 * A part's entries as the copy's planner takes a walk's output: one listing per
 * directory, parents first, each directory with the metadata the plan recorded
 * (what the planner makes it with), so a part copies by the same path as a copy
 * without walking the source. Directories above the part's entries that hold
 * none of them are listed empty: they must exist before anything below them.
 */
import { metadataFromStats } from '../shared/metadata.js';
import { parentOf, type RawPath } from '../shared/raw-path.js';
import type { DirectoryEntry, LinkOrFileEntry, SpecialEntry } from '../source/entry.js';
import type { Listing } from '../source/walk.js';
import type { PlannedDirectory, PlannedEntry } from './format.js';
import { PlanFileError } from './read-plan.js';

/** The listings of a part: `directories` in the plan's order (parents first), `entries` the part's. */
export function partListings(directories: readonly PlannedDirectory[], entries: readonly PlannedEntry[], partFile: string): Listing[] {
  const byDirectory = new Map<RawPath, Array<LinkOrFileEntry | SpecialEntry>>();
  for (const entry of entries) {
    const directory = parentOf(entry.path) ?? '';
    let listed = byDirectory.get(directory);
    if (!listed) byDirectory.set(directory, (listed = []));
    listed.push(listedEntry(entry));
  }
  const needed = new Set<RawPath>();
  for (const directory of byDirectory.keys()) {
    for (let d: RawPath | null = directory; d !== null && !needed.has(d); d = parentOf(d)) needed.add(d);
  }
  const listings: Listing[] = [];
  for (const directory of directories) {
    if (!needed.has(directory.path)) continue;
    needed.delete(directory.path);
    listings.push({ kind: 'listing', directory: directoryEntry(directory), entries: byDirectory.get(directory.path) ?? [] });
  }
  const [missing] = needed;
  if (missing !== undefined) throw new PlanFileError(partFile, `an entry's directory is not in the plan's directories: ${JSON.stringify(missing)}`);
  return listings;
}

function directoryEntry(directory: PlannedDirectory): DirectoryEntry {
  // The access time is not planned: a part sets no directory's times (the plan's finalize does).
  const metadata = metadataFromStats({ mode: directory.mode, uid: directory.uid, gid: directory.gid, atimeNs: directory.mtimeNs, mtimeNs: directory.mtimeNs });
  return { path: directory.path, ...metadata };
}

const S_IFMT = 0o170000;
const SPECIAL_TYPES: ReadonlyMap<number, string> = new Map([
  [0o010000, 'FIFO'],
  [0o140000, 'socket'],
  [0o020000, 'character device'],
  [0o060000, 'block device'],
]);

function listedEntry(entry: PlannedEntry): LinkOrFileEntry | SpecialEntry {
  if (entry.type !== 'other') return { kind: entry.type, path: entry.path };
  return { kind: 'special', path: entry.path, specialType: SPECIAL_TYPES.get(entry.mode & S_IFMT) ?? 'special file' };
}
