/**
 * Lists the source tree as listings, one per directory, parents before
 * children, so copying starts long before the listing ends. A plain pull
 * generator: nothing is read ahead of the consumer, and a consumer that stops
 * (Ctrl-C) stops the reading. Directories are read synchronously, a few
 * milliseconds' worth per event-loop turn: an async call per directory is a
 * thread-pool round trip, a turn per directory slows a tree of many small ones,
 * and the turns let the parent drain worker messages. Only directories are
 * stat'ed (the parent makes them; a file's stats are its worker's), and below
 * the root each is reached through its parent's descriptor, so one swapped for
 * a symlink during the walk is reported, never listed through the link. With
 * --one-file-system, a directory on another device is listed empty, not entered.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import fs from 'node:fs';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import { childPath, fsPath, joinRaw, rawFromLatin1, type FsPath, type RawPath } from '../shared/raw-path.js';
import { directoryEntry, entryFromDirent, hasType, type DirectoryEntry, type LinkOrFileEntry, type SpecialEntry } from './entry.js';
import type { Selection } from './selection.js';

/** How long the walk reads before it lets the event loop turn (worker messages wait this long at most). */
const TURN_MS = 2;

/** One directory as read: the directory itself, and what it holds besides subdirectories (each its own listing). */
export interface Listing {
  kind: 'listing';
  directory: DirectoryEntry;
  entries: Array<LinkOrFileEntry | SpecialEntry>;
  /** Another file system, not entered (WalkOptions.oneFileSystem): what its copy holds is not compared for --delete either. */
  mountPoint?: true;
}

interface WalkFailure {
  kind: 'failure';
  error: ErrorRecord;
}

export type WalkItem = Listing | WalkFailure;

/** What a listing keeps of a directory's entries: the user's filters (filter.ts), the destination's name rules. */
export interface ListingFilter {
  admit(relative: RawPath, dirents: Dirent[]): Dirent[];
}

export interface WalkOptions {
  filter: ListingFilter | null;
  /** Only what a file list names; null: the whole tree. */
  selection: Selection | null;
  /** A directory on another device than the root's (a mount point) is listed empty and not entered, as rsync -x. */
  oneFileSystem: boolean;
}

/** What every directory of one walk is read with. */
interface Tree {
  root: RawPath;
  directories: DirectoryHandles;
  rootEntry: DirectoryEntry;
  filter: ListingFilter | null;
  /** With WalkOptions.oneFileSystem: the root's device; undefined: every directory is entered. */
  rootDevice: bigint | undefined;
}

/** Lists `root` (a directory; a symlink to one is followed, as `cp -a root/ dest` would): whole, or only what `selection` lists. */
export async function* walk(root: RawPath, { filter, selection, oneFileSystem }: WalkOptions): AsyncGenerator<WalkItem> {
  let rootEntry: DirectoryEntry;
  let rootDevice: bigint | undefined;
  try {
    // The root is followed if it is a symlink: its attributes too, through a trailing '/.'.
    const stats = fs.statSync(fsPath(root), { bigint: true });
    rootEntry = directoryEntry('', stats, fsPath(joinRaw(root, '.')));
    if (oneFileSystem) rootDevice = stats.dev;
  } catch (error) {
    yield failure(errorRecord(error, 'stat', root));
    return;
  }
  // Descriptors only to look names up through: a directory the user may search but not read is still reached (a file list's).
  const directories = new DirectoryHandles(root, { lookUpOnly: true });
  const tree: Tree = { root, directories, rootEntry, filter, rootDevice };
  // Depth first, parents before children.
  const pending: RawPath[] = [''];
  let turnStart = performance.now();
  try {
    for (let relative = pending.pop(); relative !== undefined; relative = pending.pop()) {
      const { items, subdirectories } = selection
        ? readSelected(tree, relative, selection)
        : readListing(tree, relative);
      for (let i = subdirectories.length - 1; i >= 0; i--) pending.push(childPath(relative, subdirectories[i]!.name));
      yield* items;
      if (performance.now() - turnStart < TURN_MS) continue;
      await new Promise((resolve) => setImmediate(resolve));
      turnStart = performance.now();
    }
  } finally {
    directories.closeAll();
  }
}

/**
 * Listings already in hand (a planned part's) given out as a walk gives its own: with a
 * turn of the event loop every TURN_MS of the consumer's time, so workers fork and take
 * batches while the rest are planned (each directory made can be a round trip on a network mount).
 */
export async function* inTurns<T>(items: Iterable<T>): AsyncGenerator<T> {
  let turnStart = performance.now();
  for (const item of items) {
    yield item;
    if (performance.now() - turnStart < TURN_MS) continue;
    await new Promise((resolve) => setImmediate(resolve));
    turnStart = performance.now();
  }
}

/** One directory: its listing (or why there is none), and the subdirectories to go on with. */
function readListing(tree: Tree, relative: RawPath): { items: WalkItem[]; subdirectories: Dirent[] } {
  const { root, directories, filter } = tree;
  const directory = directoryAt(tree, relative);
  if (directory.kind === 'failure') return { items: [directory], subdirectories: [] };
  if (directory.at === null) return notEntered(directory.entry);
  const path = joinRaw(root, relative);
  let dirents: Dirent[];
  try {
    dirents = readDirectory(directory.at, directories, relative);
    if (filter) dirents = filter.admit(relative, dirents);
  } catch (error) {
    // The directory is still made, empty.
    return { items: [{ kind: 'listing', directory: directory.entry, entries: [] }, failure(errorRecord(error, 'list', path))], subdirectories: [] };
  }
  return split(relative, directory.entry, dirents, [], undefined);
}

/**
 * One directory of a file list: its listed names, lstat'ed (a missing one is a failure), through the same filters.
 * A name with listed names below it must be a directory; a directory is made and holds only what is listed in it.
 * With --gitignore, the directory's .gitignore gives its rules whether it is listed or not (it is copied only if listed).
 */
function readSelected(tree: Tree, relative: RawPath, selection: Selection): { items: WalkItem[]; subdirectories: Dirent[] } {
  const { root, directories, filter } = tree;
  const directory = directoryAt(tree, relative);
  if (directory.kind === 'failure') return { items: [directory], subdirectories: [] };
  if (directory.at === null) return notEntered(directory.entry);
  const listed = selection.names.get(relative) ?? new Set<RawPath>();
  const failures: WalkItem[] = [];
  let dirents: Dirent[] = [];
  for (const name of listed) {
    const path = joinRaw(root, childPath(relative, name));
    let stats: BigIntStats;
    try {
      stats = fs.lstatSync(directories.entryPath(childPath(relative, name)), { bigint: true });
    } catch (error) {
      failures.push(failure(errorRecord(error, 'stat', path)));
      continue;
    }
    // Never followed: names listed below a symlink are not reached through it.
    if (selection.names.has(childPath(relative, name)) && !stats.isDirectory()) {
      failures.push(failure({ code: 'ENOTDIR', message: 'not a directory', operation: 'list', path }));
      continue;
    }
    dirents.push(asDirent(name, stats));
  }
  let gitignore: Dirent | undefined;
  if (selection.gitignore && !listed.has('.gitignore')) {
    const stats = fs.lstatSync(directories.entryPath(childPath(relative, '.gitignore')), { bigint: true, throwIfNoEntry: false });
    if (stats?.isFile()) dirents.push((gitignore = asDirent('.gitignore', stats)));
  }
  if (filter) dirents = filter.admit(relative, dirents);
  return split(relative, directory.entry, dirents, failures, gitignore);
}

/** The listing of what a directory keeps, and its subdirectories; `leftOut` was read for its rules only. */
function split(
  relative: RawPath,
  directory: DirectoryEntry,
  dirents: Dirent[],
  failures: WalkItem[],
  leftOut: Dirent | undefined,
): { items: WalkItem[]; subdirectories: Dirent[] } {
  const entries: Array<LinkOrFileEntry | SpecialEntry> = [];
  const subdirectories: Dirent[] = [];
  // Indexed: once per entry listed, where a for-of's iterator is an allocation.
  for (let i = 0; i < dirents.length; i++) {
    const dirent = dirents[i]!;
    if (dirent === leftOut) continue;
    if (dirent.isDirectory()) subdirectories.push(dirent);
    else entries.push(entryFromDirent(childPath(relative, dirent.name), dirent));
  }
  return { items: [{ kind: 'listing', directory, entries }, ...failures], subdirectories };
}

/** A mount point under --one-file-system: made at the destination, with its attributes, and nothing in it. */
function notEntered(directory: DirectoryEntry): { items: WalkItem[]; subdirectories: Dirent[] } {
  return { items: [{ kind: 'listing', directory, entries: [], mountPoint: true }], subdirectories: [] };
}

interface DirectoryAt {
  kind: 'directory';
  entry: DirectoryEntry;
  /** Where it is listed; null where another file system is mounted and the walk keeps to the root's (Tree.rootDevice). */
  at: FsPath | null;
}

/**
 * The directory itself, lstat'ed (the root was stat'ed by the walk), and `at`, where it is listed: its descriptor,
 * opened now, so what is reached below it while it is read goes through that descriptor too.
 */
function directoryAt({ root, directories, rootEntry, rootDevice }: Tree, relative: RawPath): DirectoryAt | WalkFailure {
  const path = joinRaw(root, relative);
  try {
    if (relative === '') return { kind: 'directory', entry: rootEntry, at: directories.directoryPath('') };
    const stats = fs.lstatSync(directories.entryPath(relative), { bigint: true });
    // Replaced since its parent was read: reading it now could follow a symlink out of the tree.
    if (!stats.isDirectory()) return failure({ code: 'ECHANGED', message: 'it is no longer a directory', operation: 'list', path });
    const entry = directoryEntry(relative, stats, fsPath(path));
    if (rootDevice !== undefined && stats.dev !== rootDevice) return { kind: 'directory', entry, at: null };
    // By its path for its attributes, read when the run ends, long after its descriptor is closed.
    // Opened without following: replaced by a symlink since the lstat, it fails here (ELOOP, ENOTDIR).
    return { kind: 'directory', entry, at: directories.directoryPath(relative) };
  } catch (error) {
    return failure(errorRecord(error, 'stat', path));
  }
}

/** Stats answer what a dirent does about an entry's type; the filters read its name too. */
function asDirent(name: RawPath, stats: BigIntStats): Dirent {
  return Object.assign(stats, { name }) as unknown as Dirent;
}

/** latin1 gives raw names without a Buffer per name; an entry the listing gives no type is stat'ed. */
function readDirectory(at: FsPath, directories: DirectoryHandles, relative: RawPath): Dirent[] {
  const dirents = fs.readdirSync(at, { encoding: 'latin1', withFileTypes: true });
  for (let i = 0; i < dirents.length; i++) {
    const dirent = dirents[i]!;
    dirent.name = rawFromLatin1(dirent.name);
    if (!hasType(dirent)) {
      dirents[i] = Object.assign(fs.lstatSync(directories.entryPath(childPath(relative, dirent.name))), { name: dirent.name }) as unknown as Dirent;
    }
  }
  return dirents;
}

function failure(error: ErrorRecord): WalkFailure {
  return { kind: 'failure', error };
}
