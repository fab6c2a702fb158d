/**
 * The check step's look at the two trees (check.ts). The source, listed afresh
 * against the plan: each planned directory read again for names added since
 * (through the plan's filters, so what it left out on purpose is no news), each
 * planned entry lstat'ed for one removed or changed (type, size, mtime, mode).
 * The destination, against that fresh source: each entry a part recorded as
 * copied or kept, and each directory, must be there, of the same type, size,
 * mtime and mode (directories' only once finalized), and with `checksum` of the
 * same content (SHA-256 of both files, read through once) or symlink target.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { sameMtime } from '../shared/metadata.js';
import { childPath, fsPath, joinRaw, rawFromLatin1, type RawPath } from '../shared/raw-path.js';
import { hasType } from '../source/entry.js';
import { TreeFilter } from '../source/filter.js';
import { hashOpen, READ_FLAGS } from '../worker/job-result.js';
import { problemAt, type CheckProblem } from './check-problems.js';
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
  checksum: boolean;
}

const PERMISSIONS = 0o7777;
const HASH_BUFFER_BYTES = 1 << 20;

interface Comparing extends TreesToCompare {
  problems: CheckProblem[];
  /** Read into when hashing, with `checksum`. */
  buffer: Buffer | null;
}

export function compareTrees(trees: TreesToCompare): CheckProblem[] {
  const comparing: Comparing = { ...trees, problems: [], buffer: trees.checksum ? Buffer.allocUnsafe(HASH_BUFFER_BYTES) : null };
  compareDirectories(comparing);
  for (const part of trees.listing.parts) {
    for (const entry of part) {
      const now = sourceNow(comparing, entry.path, entry);
      // The copy makes no special files (FIFOs, sockets, devices): there is none to compare.
      if (now !== undefined && entry.type !== 'other' && trees.found.has(entry.path)) compareCopy(comparing, entry.path, now);
    }
  }
  return comparing.problems;
}

function compareDirectories(comparing: Comparing): void {
  const { listing, settings } = comparing;
  const names = namesByDirectory(listing);
  // Its .gitignore rules load as each directory is read, parents first, as the walk loaded them.
  const filter = TreeFilter.create(listing.source, settings);
  let rootDevice: bigint | undefined;
  for (const directory of listing.directories) {
    const now = statNow(comparing, directory.path);
    if (now === undefined) continue;
    rootDevice ??= now.dev;
    // A mount point the copy did not enter (--one-file-system) was planned empty.
    const listed = now.isDirectory() && (!settings.oneFileSystem || now.dev === rootDevice);
    // A name added moves the directory's mtime: that line says it, not another for the directory.
    const added = listed ? addedNames(comparing, directory.path, names.get(directory.path)!, filter) : 0;
    // Before the finalize a directory may not be there yet (an empty one is the finalize's to make): "not finalized" says so.
    if (added === 0 && unchanged(comparing, directory.path, directory, now) && comparing.directoryAttributes) compareCopy(comparing, directory.path, now);
  }
}

/** Names in a source directory that the plan does not have (and its filters would not leave out): how many. */
function addedNames({ listing, problems }: Comparing, directory: RawPath, planned: ReadonlySet<RawPath>, filter: TreeFilter | null): number {
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
    if (planned.has(dirent.name)) continue;
    added++;
    problems.push(problemAt('source-added', listing.source, childPath(directory, dirent.name), `${typeOf(dirent)} not in the plan`));
  }
  return added;
}

/** The source entry's stats now, or undefined (with a problem) when it is gone or differs from the plan. */
function sourceNow(comparing: Comparing, path: RawPath, planned: PlannedEntry): BigIntStats | undefined {
  const now = statNow(comparing, path);
  return now !== undefined && unchanged(comparing, path, planned, now) ? now : undefined;
}

/** The source entry's stats now; undefined (with a problem) when it is gone. */
function statNow({ listing, problems }: Comparing, path: RawPath): BigIntStats | undefined {
  let now: BigIntStats | undefined;
  try {
    // The root is followed, as the walk follows it.
    now = (path === '' ? fs.statSync : fs.lstatSync)(fsPath(joinRaw(listing.source, path)), { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
  }
  if (now === undefined) problems.push(problemAt('source-removed', listing.source, path, 'planned, no longer in the source'));
  return now;
}

/** Whether the source entry is as planned: its type, size, mtime and mode; a problem saying what changed otherwise. */
function unchanged({ listing, problems }: Comparing, path: RawPath, planned: PlannedEntry | PlannedDirectory, now: BigIntStats): boolean {
  const type = 'type' in planned ? planned.type : 'directory';
  const changes: string[] = [];
  if (typeOf(now) !== type) changes.push(`a ${type} when planned, a ${typeOf(now)} now`);
  else {
    if ('size' in planned && type !== 'other' && Number(now.size) !== planned.size) changes.push(`size ${planned.size} when planned, ${now.size} now`);
    if (now.mtimeNs !== planned.mtimeNs) changes.push('its mtime moved since planning');
    if (type !== 'symlink' && Number(now.mode) % 0o10000 !== planned.mode % 0o10000) changes.push(`mode ${octal(planned.mode)} when planned, ${octal(Number(now.mode))} now`);
  }
  if (changes.length > 0) problems.push(problemAt('source-changed', listing.source, path, changes.join('; ')));
  return changes.length === 0;
}

/** The destination's entry against the source's as it is now. */
function compareCopy(comparing: Comparing, path: RawPath, source: BigIntStats): void {
  const { listing, settings, problems } = comparing;
  const target = fsPath(joinRaw(listing.destination, path));
  let copy: BigIntStats | undefined;
  try {
    copy = (path === '' ? fs.statSync : fs.lstatSync)(target, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
  }
  if (copy === undefined) {
    problems.push(problemAt('destination-missing', listing.destination, path, `the source's ${typeOf(source)} is not at the destination`));
    return;
  }
  const type = typeOf(source);
  const differences: string[] = [];
  const attributes = type !== 'directory' || comparing.directoryAttributes;
  if (typeOf(copy) !== type) differences.push(`a ${typeOf(copy)}, the source's is a ${type}`);
  else {
    if ((type === 'file' || type === 'symlink') && copy.size !== source.size) differences.push(`size ${copy.size}, the source's ${source.size}`);
    if (attributes && !sameMtime(source.mtimeNs, copy.mtimeNs, settings.modifyWindow)) differences.push(`mtime ${copy.mtimeNs} ns, the source's ${source.mtimeNs} ns`);
    if (attributes && type !== 'symlink' && (copy.mode & BigInt(PERMISSIONS)) !== (source.mode & BigInt(PERMISSIONS))) {
      differences.push(`mode ${octal(Number(copy.mode))}, the source's ${octal(Number(source.mode))}`);
    }
    if (differences.length === 0 && comparing.buffer !== null) {
      const content = contentDiffers(comparing.buffer, type, fsPath(joinRaw(listing.source, path)), target);
      if (content !== undefined) differences.push(content);
    }
  }
  if (differences.length > 0) problems.push(problemAt('destination-differs', listing.destination, path, differences.join('; ')));
}

/** With --checksum: a file's SHA-256 or a symlink's target, when they differ; undefined when they are the same. */
function contentDiffers(buffer: Buffer, type: string, source: string | Buffer, copy: string | Buffer): string | undefined {
  try {
    if (type === 'symlink') return fs.readlinkSync(source, 'buffer').equals(fs.readlinkSync(copy, 'buffer')) ? undefined : 'its target differs from the source symlink\'s';
    if (type !== 'file') return undefined;
    return hashOf(source, buffer) === hashOf(copy, buffer) ? undefined : 'its content differs from the source\'s (SHA-256)';
  } catch (error) {
    return `its content cannot be compared (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

function hashOf(file: string | Buffer, buffer: Buffer): string {
  const fd = fs.openSync(file, READ_FLAGS);
  try {
    return hashOpen(fd, buffer);
  } finally {
    fs.closeSync(fd);
  }
}

function typeOf(stats: Pick<fs.Dirent, 'isFile' | 'isDirectory' | 'isSymbolicLink'>): 'file' | 'directory' | 'symlink' | 'other' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

function octal(mode: number): string {
  return `0${(mode & PERMISSIONS).toString(8).padStart(3, '0')}`;
}
