/**
 * The end of a run for the directories it made or kept: owner, attributes, mode
 * and times, children before parents, since writing the files changes a
 * directory's mtime. Owner and times through the parent's descriptor without
 * following the name (a symlink put there gets them itself); the mode, which
 * Linux cannot set on a link, through the directory's own descriptor, opened
 * without following it. An existing directory that had its source's times when
 * the run found it, and in which nothing moved them since, is not timed again.
 */
import fs from 'node:fs';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import type { Owner, OwnerPolicy, Seconds } from '../shared/jobs.js';
import { errnoError, native, type Native } from '../shared/native.js';
import { NETWORK_REQUESTS_AT_ONCE, onNetworkFileSystem } from '../shared/file-systems.js';
import { fsPath, joinRaw, type RawPath } from '../shared/raw-path.js';
import { DirectoryAttributes, type AttributeTarget } from './directory-attributes.js';

export interface MadeDirectory extends AttributeTarget {
  mode: number;
  /** mkdir or the existing directory already has `mode`: it is left. */
  modeIsSet: boolean;
  atime: Seconds;
  mtime: Seconds;
  atimeNs: bigint;
  mtimeNs: bigint;
  owner: Owner | undefined;
  /** The times an existing directory had when the run found it; undefined for one made now. */
  found?: { atimeNs: bigint; mtimeNs: bigint };
}

export interface FinalizeOptions {
  /** Parents before children, as they were made. */
  made: readonly MadeDirectory[];
  /** Relative paths of the directories that existed before the run. */
  existing: ReadonlySet<RawPath>;
  /** Existing directories whose entries the run wrote, replaced, deleted or failed in. */
  changed: ReadonlySet<RawPath>;
  /** Every directory was listed again (the delete pass): a listing can move its atime. */
  allListed: boolean;
  /** The source root: its directories' attributes are read through descriptors of their own. */
  source: RawPath;
  destination: RawPath;
  handles: DirectoryHandles;
  policy: OwnerPolicy;
}

/** Returns what could not be set, and the LOST_* bits of each directory that could not hold all it had. */
export async function finalizeDirectories(options: FinalizeOptions): Promise<{ failures: ErrorRecord[]; losses: number[] }> {
  const failures: ErrorRecord[] = [];
  const losses: number[] = [];
  // Loaded here, at the end, and only in a run that makes directories: never on the CLI's start-up path.
  const lib = options.made.length > 0 ? native() : null;
  // Where each call is a round trip, the times (the one call every directory gets) go many at once, a depth at a
  // time: a directory's are set before its parent's mode, which could close it to anyone but root.
  const timesInPool = lib !== null && options.made.length > 1 && onNetworkFileSystem(fsPath(options.destination));
  const attributes = new DirectoryAttributes(options.source, options.handles, options.policy, lib);
  try {
    const inherited = attributes.inheritedAcls(options.made, options.existing);
    for (const level of timesInPool ? deepestFirst(options.made) : [[...options.made].reverse()]) {
      const timing: MadeDirectory[] | null = timesInPool ? [] : null;
      for (const directory of level) {
        try {
          const lost = finalizeOne(directory, { options, lib, attributes, inherited, failures, timing });
          if (lost !== 0) losses.push(lost);
        } catch (error) {
          failures.push(errorRecord(error, 'set-metadata', joinRaw(options.destination, directory.path)));
        }
      }
      if (timing && timing.length > 0) await setTimesInPool(lib!, timing, options, failures);
    }
  } finally {
    attributes.close();
  }
  return { failures, losses };
}

interface Finalizing {
  options: FinalizeOptions;
  lib: Native | null;
  attributes: DirectoryAttributes;
  inherited: ReadonlySet<RawPath>;
  failures: ErrorRecord[];
  /** Where the directory goes to have its times set with the others of its depth; null: set here. */
  timing: MadeDirectory[] | null;
}

/** One directory's owner, attributes, mode and times; returns the LOST_* bits of what it could not hold. */
function finalizeOne(directory: MadeDirectory, { options, lib, attributes, inherited, failures, timing }: Finalizing): number {
  const isRoot = directory.path === '';
  // The root by its path (it may be a symlink the user chose to copy into); anything below through its parent's descriptor.
  const target = options.handles.entryPath(directory.path);
  if (directory.owner) (isRoot ? fs.chownSync : fs.lchownSync)(target, directory.owner.uid, directory.owner.gid);
  // After the owner (a chown clears what it guards), before the mode (an access ACL rewrites its group bits).
  const { lost, changed } = attributes.copy(directory, inherited.has(directory.path), failures);
  if (!directory.modeIsSet || changed) fs.fchmodSync(options.handles.descriptor(directory.path), directory.mode);
  if (keepsTimes(directory, options)) return lost;
  if (timing) timing.push(directory);
  else if (lib) {
    const errno = lib.setTimes(target, directory.atimeNs, directory.mtimeNs, isRoot);
    if (errno !== 0) throw errnoError(errno, 'utimensat');
  } else (isRoot ? fs.utimesSync : fs.lutimesSync)(target, directory.atime, directory.mtime);
  return lost;
}

/** The directories grouped by depth, deepest first: children before parents. */
function deepestFirst(made: readonly MadeDirectory[]): MadeDirectory[][] {
  const levels: MadeDirectory[][] = [];
  for (const directory of made) {
    const depth = directory.path === '' ? 0 : directory.path.split('/').length;
    (levels[depth] ??= []).push(directory);
  }
  return levels.filter((level) => level !== undefined).reverse();
}

/** Up to NETWORK_REQUESTS_AT_ONCE calls in flight, each runner taking the next directory as its call returns. */
async function setTimesInPool(lib: Native, directories: readonly MadeDirectory[], options: FinalizeOptions, failures: ErrorRecord[]): Promise<void> {
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < directories.length) {
      const directory = directories[next++]!;
      const errno = await options.handles.withEntryPath(directory.path, (path) => lib.setTimesInPool(path, directory.atimeNs, directory.mtimeNs, directory.path === ''));
      if (errno !== 0) failures.push(errorRecord(errnoError(errno, 'utimensat'), 'set-metadata', joinRaw(options.destination, directory.path)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(NETWORK_REQUESTS_AT_ONCE, directories.length) }, runner));
}

/**
 * An existing directory below the root (the case probe writes in the root on every run) that had
 * the source's times when the run found it, and in which nothing moved them since.
 */
function keepsTimes(directory: MadeDirectory, { changed, allListed }: FinalizeOptions): boolean {
  const { found } = directory;
  if (found === undefined || directory.path === '' || allListed || changed.has(directory.path)) return false;
  return found.atimeNs === directory.atimeNs && found.mtimeNs === directory.mtimeNs;
}
