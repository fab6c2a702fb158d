/**
 * The check step's look at the source (check.ts): listed afresh against the
 * plan, each planned directory read again for names added since (through the
 * plan's filters, so what it left out on purpose is no news), each planned
 * entry lstat'ed for one removed or changed (type, size, mtime, mode). Each
 * entry a part recorded as copied or kept, and each directory, is then compared
 * at the destination with that fresh source (check-copies.ts).
 */
import fs from 'node:fs';
import type { ErrorRecord } from '../shared/errors.js';
import { childPath, fsPath, joinRaw, rawFromLatin1, type RawPath } from '../shared/raw-path.js';
import { hasType } from '../source/entry.js';
import { onNetworkFileSystem } from '../shared/file-systems.js';
import { statsAhead } from '../source/stats-ahead.js';
import { kindOf, treeStats, type StatsAt, type TreeEntryStats } from '../source/tree-stats.js';
import { TreeFilter } from '../source/filter.js';
import { selectionOf } from '../source/selection.js';
import { problemAt, type CheckProblem } from './check-problems.js';
import { compareCopy, compareLink, octal, typeOf, type LinkGroups } from './check-copies.js';
import type { PlannedDirectory, PlannedEntry } from './format.js';
import { namesByDirectory, type PlanListing, type PlanSettings } from './plan-listing.js';

/** The entries the records say are at the destination (copied or kept by their own part): compared there. */
export type Found = Map<RawPath, PlannedEntry>;

export interface TreesToCompare {
  listing: PlanListing;
  settings: PlanSettings;
  found: Found;
  /** The plan was finalized: directories have their modes and times, and are compared on them. */
  directoryAttributes: boolean;
  /** By part: the part kept the source's owners (it ran as root); and the finalize gave the directories theirs. */
  ownersKept: readonly boolean[];
  directoryOwners: boolean;
  checksum: boolean;
}

const HASH_BUFFER_BYTES = 1 << 20;
const NOTHING: ReadonlySet<RawPath> = new Set();

interface Comparing extends TreesToCompare {
  problems: CheckProblem[];
  /** Read into when hashing, with `checksum`. */
  buffer: Buffer | null;
  /** The source's entries and the destination's, each by its name in its directory's descriptor. */
  sources: StatsAt;
  copies: StatsAt;
}

export async function compareTrees(trees: TreesToCompare): Promise<CheckProblem[]> {
  const { listing } = trees;
  const comparing: Comparing = {
    ...trees,
    problems: [],
    buffer: trees.checksum ? Buffer.allocUnsafe(HASH_BUFFER_BYTES) : null,
    sources: await statsOf(listing.source, () => [...listing.directories.map((d) => d.path), ...listing.parts.flat().map((e) => e.path)]),
    copies: await statsOf(listing.destination, () => [...(trees.directoryAttributes ? listing.directories.map((d) => d.path) : []), ...trees.found.keys()]),
  };
  try {
    compareDirectories(comparing);
    const links: LinkGroups = new Map();
    listing.parts.forEach((part, k) => {
      const owners = trees.ownersKept[k] === true;
      for (const entry of part) {
        const source = sourceNow(comparing, entry.path, entry);
        // The copy makes no special files (FIFOs, sockets, devices): there is none to compare.
        if (source === undefined || entry.type === 'other' || !trees.found.has(entry.path)) continue;
        const copy = compareCopy(comparing, { path: entry.path, source, attributes: true, owners });
        if (copy !== undefined && entry.nlink > 1 && entry.type === 'file' && trees.settings.hardLinks) compareLink(comparing, links, { path: entry.path, ino: entry.ino, source, copy });
      }
    });
  } finally {
    comparing.sources.close();
    comparing.copies.close();
  }
  return comparing.problems;
}

/**
 * How a tree's entries are looked at: on a network file system, the ones the check will ask
 * for (`paths`) all at once, many in flight (a round trip each, one at a time, was most of a
 * check there); elsewhere each when asked, by its name in its directory's descriptor.
 */
async function statsOf(root: RawPath, paths: () => RawPath[]): Promise<StatsAt> {
  return onNetworkFileSystem(fsPath(root)) ? statsAhead(root, paths()) : treeStats(root);
}

function compareDirectories(comparing: Comparing): void {
  const { listing, settings } = comparing;
  const names = namesByDirectory(listing);
  // Its .gitignore rules load as each directory is read, parents first, as the walk loaded them.
  const filter = TreeFilter.create(listing.source, settings);
  // With --files-from only the names it lists were planned: another name is no news.
  const selected = settings.files === undefined ? null : selectionOf(settings.files, settings.gitignore).names;
  let rootDevice: number | undefined;
  for (const directory of listing.directories) {
    const now = statNow(comparing, directory.path);
    if (now === undefined) continue;
    rootDevice ??= now.dev;
    // A mount point the copy did not enter (--one-file-system) was planned empty.
    const listed = kindOf(now.mode) === 'directory' && (!settings.oneFileSystem || now.dev === rootDevice);
    // A name added moves the directory's mtime: that line says it, not another for the directory.
    const planned = { names: names.get(directory.path)!, listed: selected === null ? null : (selected.get(directory.path) ?? NOTHING) };
    const added = listed ? addedNames(comparing, directory.path, planned, filter) : 0;
    // Before the finalize a directory may not be there yet (an empty one is the finalize's to make): "not finalized" says so.
    if (added === 0 && unchanged(comparing, directory.path, directory, now) && comparing.directoryAttributes) {
      compareCopy(comparing, { path: directory.path, source: now, attributes: true, owners: comparing.directoryOwners });
    }
  }
}

/** Names in a source directory that the plan does not have (and its filters and file list would not leave out): how many. */
function addedNames({ listing, problems }: Comparing, directory: RawPath, planned: { names: ReadonlySet<RawPath>; listed: ReadonlySet<RawPath> | null }, filter: TreeFilter | null): number {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(fsPath(joinRaw(listing.source, directory)), { encoding: 'latin1', withFileTypes: true });
  } catch (error) {
    problems.push(problemAt('source-changed', listing.source, directory, `it cannot be listed now (${(error as NodeJS.ErrnoException).code})`));
    return 1;
  }
  for (let i = 0; i < dirents.length; i++) {
    const dirent = dirents[i]!;
    dirent.name = rawFromLatin1(dirent.name);
    if (!hasType(dirent)) dirents[i] = Object.assign(fs.lstatSync(fsPath(joinRaw(listing.source, childPath(directory, dirent.name)))), { name: dirent.name }) as unknown as fs.Dirent;
  }
  let added = 0;
  for (const dirent of filter ? filter.admit(directory, dirents) : dirents) {
    if (planned.names.has(dirent.name) || (planned.listed !== null && !planned.listed.has(dirent.name))) continue;
    added++;
    problems.push(problemAt('source-added', listing.source, childPath(directory, dirent.name), `${typeOf(dirent)} not in the plan`));
  }
  return added;
}

/** The source entry's stats now, or undefined (with a problem) when it is gone or differs from the plan. */
function sourceNow(comparing: Comparing, path: RawPath, planned: PlannedEntry): TreeEntryStats | undefined {
  const now = statNow(comparing, path);
  return now !== undefined && unchanged(comparing, path, planned, now) ? now : undefined;
}

/** The source entry's stats now; undefined (with a problem) when it is gone, or cannot be looked at. */
function statNow({ listing, problems, sources }: Comparing, path: RawPath): TreeEntryStats | undefined {
  const failures: ErrorRecord[] = [];
  const now = sources.at(path, failures);
  if (now !== undefined) return now;
  const code = failures[0]?.code;
  // Nothing there, or a directory above it gone or replaced (the root is followed, as the walk follows it).
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ECHANGED') problems.push(problemAt('source-removed', listing.source, path, 'planned, no longer in the source'));
  else problems.push(problemAt('source-changed', listing.source, path, `it cannot be looked at now (${code})`));
  return undefined;
}

/** Whether the source entry is as planned: its type, size, mtime and mode; a problem saying what changed otherwise. */
function unchanged({ listing, problems }: Comparing, path: RawPath, planned: PlannedEntry | PlannedDirectory, now: TreeEntryStats): boolean {
  const type = 'type' in planned ? planned.type : 'directory';
  const changes: string[] = [];
  if (kindOf(now.mode) !== type) changes.push(`a ${type} when planned, a ${kindOf(now.mode)} now`);
  else {
    if ('size' in planned && type !== 'other' && now.size !== planned.size) changes.push(`size ${planned.size} when planned, ${now.size} now`);
    if (now.mtimeNs !== planned.mtimeNs) changes.push('its mtime moved since planning');
    if (type !== 'symlink' && now.mode % 0o10000 !== planned.mode % 0o10000) changes.push(`mode ${octal(planned.mode)} when planned, ${octal(now.mode)} now`);
  }
  if (changes.length > 0) problems.push(problemAt('source-changed', listing.source, path, changes.join('; ')));
  return changes.length === 0;
}
