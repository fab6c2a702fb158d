/**
 * The check step's look at the destination (check-trees.ts looks at the source):
 * each entry there against the source's as it is now. Of the same type and size;
 * once its attributes are the copy's to have given (a directory's once
 * finalized), of the same mtime and mode, and of the same owner where the copy
 * kept owners (a part or finalize that ran as root, as a copy keeps them only
 * as root); with `checksum`, of the same content (SHA-256 of both files, read
 * through once) or symlink target. Names planned as one file (hard links) must
 * be one inode there too.
 */
import fs from 'node:fs';
import { sameMtime } from '../shared/metadata.js';
import type { ErrorRecord } from '../shared/errors.js';
import { fsPath, joinRaw, type RawPath } from '../shared/raw-path.js';
import { kindOf, type StatsAt, type TreeEntryStats } from '../source/tree-stats.js';
import { hashOpen, READ_FLAGS } from '../worker/job-result.js';
import { problemAt, type CheckProblem } from './check-problems.js';
import type { PlanListing, PlanSettings } from './plan-listing.js';

export interface CopiesToCompare {
  listing: PlanListing;
  settings: PlanSettings;
  problems: CheckProblem[];
  /** Read into when hashing, with `checksum`; null without. */
  buffer: Buffer | null;
  /** The destination's entries, each by its name in its directory's descriptor. */
  copies: StatsAt;
}

export interface EntryToCompare {
  path: RawPath;
  /** The source's entry now. */
  source: TreeEntryStats;
  /** Its mtime and mode are the copy's to have given (a directory's, once finalized). */
  attributes: boolean;
  /** Its owner too: the copy kept owners. */
  owners: boolean;
}

const PERMISSIONS = 0o7777;

/** The destination's entry against the source's; its stats when it is there and of the source's type (for hard links). */
export function compareCopy(comparing: CopiesToCompare, { path, source, attributes, owners }: EntryToCompare): TreeEntryStats | undefined {
  const { listing, settings, problems } = comparing;
  const target = fsPath(joinRaw(listing.destination, path));
  const failures: ErrorRecord[] = [];
  const copy = comparing.copies.at(path, failures);
  const type = kindOf(source.mode);
  if (copy === undefined) {
    const code = failures[0]?.code;
    // Nothing there, or a directory above it missing or replaced: the entry is not at the destination.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ECHANGED') problems.push(problemAt('destination-missing', listing.destination, path, `the source's ${type} is not at the destination`));
    else problems.push(problemAt('destination-differs', listing.destination, path, `it cannot be looked at (${code})`));
    return undefined;
  }
  if (kindOf(copy.mode) !== type) {
    problems.push(problemAt('destination-differs', listing.destination, path, `a ${kindOf(copy.mode)}, the source's is a ${type}`));
    return undefined;
  }
  const differences: string[] = [];
  if ((type === 'file' || type === 'symlink') && copy.size !== source.size) differences.push(`size ${copy.size}, the source's ${source.size}`);
  if (attributes && !sameMtime(source.mtimeNs, copy.mtimeNs, settings.modifyWindow)) differences.push(`mtime ${copy.mtimeNs} ns, the source's ${source.mtimeNs} ns`);
  if (attributes && type !== 'symlink' && (copy.mode & PERMISSIONS) !== (source.mode & PERMISSIONS)) {
    differences.push(`mode ${octal(copy.mode)}, the source's ${octal(source.mode)}`);
  }
  if (attributes && owners) {
    if (copy.uid !== source.uid) differences.push(`owner ${copy.uid}, the source's ${source.uid}`);
    if (copy.gid !== source.gid) differences.push(`group ${copy.gid}, the source's ${source.gid}`);
  }
  if (differences.length === 0 && comparing.buffer !== null) {
    const content = contentDiffers(comparing.buffer, type, fsPath(joinRaw(listing.source, path)), target);
    if (content !== undefined) differences.push(content);
  }
  if (differences.length > 0) problems.push(problemAt('destination-differs', listing.destination, path, differences.join('; ')));
  return copy;
}

/** The first name met of each planned file of several names, by its source device and planned inode. */
export type LinkGroups = Map<string, { path: RawPath; copy: TreeEntryStats }>;

/**
 * A name of a file planned with several (its planned nlink above 1, hard links kept): one inode at the destination
 * with the first of its names met, else a problem naming it. The source's device with the planned inode keeps files
 * of two file systems apart (the plan has no device).
 */
export function compareLink({ listing, problems }: CopiesToCompare, groups: LinkGroups, link: { path: RawPath; ino: number; source: TreeEntryStats; copy: TreeEntryStats }): void {
  const key = `${link.source.dev}:${link.ino}`;
  const first = groups.get(key);
  if (first === undefined) {
    groups.set(key, { path: link.path, copy: link.copy });
    return;
  }
  if (first.copy.ino === link.copy.ino && first.copy.dev === link.copy.dev) return;
  problems.push(problemAt('destination-differs', listing.destination, link.path, `a separate file, not a hard link of ${JSON.stringify(first.path)} as in the source (one inode there)`));
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

export function typeOf(stats: Pick<fs.Dirent, 'isFile' | 'isDirectory' | 'isSymbolicLink'>): 'file' | 'directory' | 'symlink' | 'other' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

export function octal(mode: number): string {
  return `0${(mode & PERMISSIONS).toString(8).padStart(3, '0')}`;
}
