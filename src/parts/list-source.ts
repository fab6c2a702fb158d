/**
 * One listing of the source for a plan: the copy's own walk (source/walk.ts),
 * with its filters, and a stat of every entry, since a plan weighs files by
 * their size and keeps a file's names together by their inode. Each entry is
 * stat'ed by its name in its directory's descriptor (statx through koffi), which
 * costs a third of Node's lstat of the whole path with its BigInt stats and
 * Dates; where koffi cannot load, by path through Node. What cannot be listed or
 * stat'ed is a failure, as in a copy.
 */
import fs from 'node:fs';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import { errnoError, native, S_IFLNK, S_IFMT, S_IFREG, type DirectoryCalls, type EntryStats } from '../shared/native.js';
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

const S_IFDIR = 0o040000;

export async function listSource(source: RawPath, options: ListSourceOptions): Promise<SourceListing> {
  const listing: SourceListing = { directories: [], entries: [], failures: [] };
  const stat = statter(source);
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
        const type = typeOf(found.mode);
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

/** What listSource() needs of an entry's stats. */
type Stats = Pick<EntryStats, 'mode' | 'uid' | 'gid' | 'size' | 'nlink' | 'mtimeNs' | 'ino' | 'dev'>;

interface Statter {
  /** The directory's stats (the root followed, as the walk follows it), or undefined and a failure. */
  directory(relative: RawPath, at: RawPath, failures: ErrorRecord[]): Stats | undefined;
  /** An entry's stats, not following a symlink, or undefined and a failure. */
  entry(directory: RawPath, relative: RawPath, failures: ErrorRecord[]): Stats | undefined;
  close(): void;
}

function statter(source: RawPath): Statter {
  const lib = native()?.at;
  return lib ? descriptorStatter(source, lib) : pathStatter(source);
}

/** Each directory opened once, below the root through its parent's descriptor, never following a symlink. */
function descriptorStatter(source: RawPath, lib: DirectoryCalls): Statter {
  const handles = new DirectoryHandles(source, {
    lookUpOnly: true,
    openChild: (parent, name, flags) => {
      const fd = lib.openAt(parent, fsPath(name), flags, 0);
      if (fd < 0) throw errnoError(-fd, 'open');
      return fd;
    },
  });
  return {
    directory(relative, at, failures) {
      let fd: number;
      try {
        fd = handles.descriptor(relative);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Replaced since the walk listed it (by a symlink, say): planned as it was, it would be copied as it is not.
        if (code === 'ELOOP' || code === 'ENOTDIR') failures.push(noLongerADirectory(at));
        else failures.push(errorRecord(error, 'stat', at));
        return undefined;
      }
      const stats = lib.statFd(fd);
      if (typeof stats === 'number') {
        failures.push(errorRecord(errnoError(-stats, 'stat'), 'stat', at));
        return undefined;
      }
      return stats;
    },
    entry(directory, relative, failures) {
      let stats: EntryStats | number;
      try {
        stats = lib.statAt(handles.descriptor(directory), fsPath(relative.slice(relative.lastIndexOf('/') + 1)));
      } catch (error) {
        failures.push(errorRecord(error, 'stat', joinRaw(source, relative)));
        return undefined;
      }
      if (typeof stats !== 'number') return stats;
      failures.push(errorRecord(errnoError(-stats, 'lstat'), 'stat', joinRaw(source, relative)));
      return undefined;
    },
    close: () => handles.closeAll(),
  };
}

/** Where the native calls cannot load: Node's stat of each path. */
function pathStatter(source: RawPath): Statter {
  const look = (at: RawPath, how: 'stat' | 'lstat', failures: ErrorRecord[]): Stats | undefined => {
    try {
      const s = how === 'stat' ? fs.statSync(fsPath(at), { bigint: true }) : fs.lstatSync(fsPath(at), { bigint: true });
      return { mode: Number(s.mode), uid: Number(s.uid), gid: Number(s.gid), size: Number(s.size), nlink: Number(s.nlink), mtimeNs: s.mtimeNs, ino: Number(s.ino), dev: Number(s.dev) };
    } catch (error) {
      failures.push(errorRecord(error, 'stat', at));
      return undefined;
    }
  };
  return {
    directory(relative, at, failures) {
      const stats = look(at, relative === '' ? 'stat' : 'lstat', failures);
      if (stats && (stats.mode & S_IFMT) !== S_IFDIR) {
        failures.push(noLongerADirectory(at));
        return undefined;
      }
      return stats;
    },
    entry: (_directory, relative, failures) => look(joinRaw(source, relative), 'lstat', failures),
    close() {},
  };
}

function noLongerADirectory(at: RawPath): ErrorRecord {
  return { code: 'ECHANGED', message: 'it is no longer a directory', operation: 'list', path: at };
}

function typeOf(mode: number): PlannedType {
  const type = mode & S_IFMT;
  if (type === S_IFREG) return 'file';
  if (type === S_IFLNK) return 'symlink';
  return 'other';
}
