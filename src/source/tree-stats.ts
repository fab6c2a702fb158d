/**
 * Stats of the entries of a tree, by path relative to its root, for those who
 * look at many (a plan's listing, the census): each by its name in its
 * directory's descriptor (statx through koffi), a third of the CPU of Node's
 * lstat of the whole path with its BigInt stats and Dates. Directories are
 * opened below the root through their parent's descriptor, never following a
 * symlink (shared/directory-handles.ts). Where koffi cannot load, Node's stat
 * of each path.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import { errnoError, native, S_IFLNK, S_IFMT, S_IFREG, type DirectoryCalls, type EntryStats } from '../shared/native.js';
import { fsPath, joinRaw, parentOf, type RawPath } from '../shared/raw-path.js';

const S_IFDIR = 0o040000;

/** What the callers need of an entry's stats. */
export type TreeEntryStats = Pick<EntryStats, 'mode' | 'uid' | 'gid' | 'size' | 'nlink' | 'mtimeNs' | 'ino' | 'dev'>;

export interface TreeStats {
  /** The directory's stats (the root followed, as the walk follows it), or undefined and a failure. */
  directory(relative: RawPath, at: RawPath, failures: ErrorRecord[]): TreeEntryStats | undefined;
  /** An entry's stats, not following a symlink, or undefined and a failure (when `failures` are kept). */
  entry(directory: RawPath, relative: RawPath, failures?: ErrorRecord[]): TreeEntryStats | undefined;
  /** What is at `relative` now, whatever its type (the root followed); undefined and a failure otherwise. */
  at(relative: RawPath, failures: ErrorRecord[]): TreeEntryStats | undefined;
  close(): void;
}

/** What looks up entries by path only (stats-ahead.ts too). */
export type StatsAt = Pick<TreeStats, 'at' | 'close'>;

/** What the callers need of Node's stats (where koffi cannot load, and for lookups through Node's thread pool). */
export function fromNodeStats(s: BigIntStats): TreeEntryStats {
  return { mode: Number(s.mode), uid: Number(s.uid), gid: Number(s.gid), size: Number(s.size), nlink: Number(s.nlink), mtimeNs: s.mtimeNs, ino: Number(s.ino), dev: Number(s.dev) };
}

/** An entry's type, from its mode. */
export function kindOf(mode: number): 'file' | 'directory' | 'symlink' | 'other' {
  const type = mode & S_IFMT;
  if (type === S_IFREG) return 'file';
  if (type === S_IFDIR) return 'directory';
  if (type === S_IFLNK) return 'symlink';
  return 'other';
}

export function treeStats(source: RawPath): TreeStats {
  const lib = native()?.at;
  return lib ? descriptorStatter(source, lib) : pathStatter(source);
}

/** Each directory opened once, below the root through its parent's descriptor, never following a symlink. */
function descriptorStatter(source: RawPath, lib: DirectoryCalls): TreeStats {
  const handles = new DirectoryHandles(source, {
    lookUpOnly: true,
    openChild: (parent, name, flags) => {
      const fd = lib.openAt(parent, fsPath(name), flags, 0);
      if (fd < 0) throw errnoError(-fd, 'open');
      return fd;
    },
  });
  const entry: TreeStats['entry'] = (directory, relative, failures) => {
    let stats: EntryStats | number;
    try {
      stats = lib.statAt(handles.descriptor(directory), fsPath(relative.slice(relative.lastIndexOf('/') + 1)));
    } catch (error) {
      failures?.push(errorRecord(error, 'stat', joinRaw(source, relative)));
      return undefined;
    }
    if (typeof stats !== 'number') return stats;
    failures?.push(errorRecord(errnoError(-stats, 'lstat'), 'stat', joinRaw(source, relative)));
    return undefined;
  };
  const directory: TreeStats['directory'] = (relative, at, failures) => {
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
  };
  return {
    directory,
    entry,
    at(relative, failures) {
      return relative === '' ? directory('', source, failures) : entry(parentOf(relative) ?? '', relative, failures);
    },
    close: () => handles.closeAll(),
  };
}

/** Where the native calls cannot load: Node's stat of each path. */
function pathStatter(source: RawPath): TreeStats {
  const look = (at: RawPath, how: 'stat' | 'lstat', failures: ErrorRecord[] | undefined): TreeEntryStats | undefined => {
    try {
      const s = how === 'stat' ? fs.statSync(fsPath(at), { bigint: true }) : fs.lstatSync(fsPath(at), { bigint: true });
      return fromNodeStats(s);
    } catch (error) {
      failures?.push(errorRecord(error, 'stat', at));
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
    at: (relative, failures) => look(joinRaw(source, relative), relative === '' ? 'stat' : 'lstat', failures),
    close() {},
  };
}

function noLongerADirectory(at: RawPath): ErrorRecord {
  return { code: 'ECHANGED', message: 'it is no longer a directory', operation: 'list', path: at };
}
