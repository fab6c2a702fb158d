/**
 * The trees the worker reads and writes, as directories open as descriptors
 * (places.ts): the source's, by path relative to its root, and the
 * destination's, with what the worker learns per directory of it.
 */
import fs from 'node:fs';
import { basename, dirname } from 'node:path';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errnoError, native } from '../shared/native.js';
import { fsPath, parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import { hasDefaultAcl } from '../shared/xattrs.js';
import { at, fstat, type Dir, type Place } from './places.js';

/** The directories of one tree, by path relative to its root; the last one asked for is kept at hand. */
export class Directories {
  private readonly handles: DirectoryHandles;
  private last: RawPath | null = null;
  private lastDir: Dir | null = null;
  private readonly adopted: Directories[] = [];

  /** `lookUpOnly`: a source tree, whose directories are only searched, never listed. */
  constructor(root: RawPath, { lookUpOnly = false } = {}) {
    const lib = at();
    this.handles = new DirectoryHandles(root, {
      lookUpOnly,
      ...(lib && {
        openChild: (parent: number, name: RawPath, flags: number) => {
          const fd = lib.openAt(parent, fsPath(name), flags, 0);
          if (fd < 0) throw errnoError(-fd, 'open');
          return fd;
        },
      }),
    });
  }

  /** The directory at `relative` ('' is the root); throws the system's error (ELOOP: a symlink is in the way). */
  dir(relative: RawPath): Dir {
    // The last directory is the most recent of the handles' cache, so its descriptor is still open.
    if (relative === this.last) return this.lastDir!;
    const fd = this.handles.descriptor(relative);
    this.last = relative;
    this.lastDir = { fd, path: this.handles.directoryPath(relative) };
    return this.lastDir;
  }

  /** The entry at `path` (relative to the root, not the root itself). */
  place(path: RawPath): Place {
    return { dir: this.dir(parentOf(path) ?? ''), name: fsPath(path.slice(path.lastIndexOf('/') + 1)) };
  }

  /** Other directories (a single file's) to close with these. */
  adopt(other: Directories): void {
    this.adopted.push(other);
  }

  close(): void {
    this.last = null;
    this.lastDir = null;
    this.handles.closeAll();
    for (const other of this.adopted.splice(0)) other.close();
  }
}

/** A single file's own place: by its real path, as the user named it (a symlink they named is followed). */
export function rootFilePlace(path: RawPath): { place: Place; directories: Directories } {
  const real = fs.realpathSync(fsPath(path), { encoding: 'latin1' });
  const directories = new Directories(dirname(real), { lookUpOnly: true });
  return { place: { dir: directories.dir(''), name: fsPath(basename(real)) }, directories };
}

/**
 * The destination tree, and what the worker learns per directory: which mode
 * bits a new file keeps (a default ACL on the directory masks the mode a file
 * is created with, so a file whose bits are not known to survive is checked
 * once, and fixed where they did not), and whether the directory has a default
 * ACL at all, from which new files inherit ACLs: asked once, the first time a
 * file there needs to know.
 */
export class Destination {
  private readonly directories: Directories;
  /** A single-file copy's one entry (its job is named ''): the destination's own name. */
  private readonly singleName: FsPath | null;
  private current: Dir | null = null;
  private keptBits = 0;
  private masking = false;
  private aclHandedDown: boolean | null = null;

  constructor(destination: RawPath, singleFile: boolean) {
    this.directories = new Directories(singleFile ? dirname(destination) : destination);
    this.singleName = singleFile ? fsPath(basename(destination)) : null;
  }

  /** The entry at `path` (a job's path; '' for a single file's), its directory opened if need be. */
  place(path: RawPath): Place {
    const place = path === '' && this.singleName !== null ? { dir: this.directories.dir(''), name: this.singleName } : this.directories.place(path);
    if (place.dir !== this.current) {
      this.current = place.dir;
      this.keptBits = 0;
      this.masking = false;
      this.aclHandedDown = null;
    }
    return place;
  }

  /** Another entry of the destination tree (a hard link's first name); the current directory's learning is kept. */
  other(path: RawPath): Place {
    const place = this.directories.place(path);
    // The directories' cache now holds this one at hand: the current one is asked for again by its path.
    this.current = null;
    return place;
  }

  /** Whether the file just created as `fd` with `mode` has it exactly; a stat only while that is not known. */
  keepsMode(fd: number, mode: number): boolean {
    if (this.masking) return false;
    if ((mode & ~this.keptBits) === 0) return true;
    if ((fstat(fd).mode & 0o7777) === mode) {
      this.keptBits |= mode;
      return true;
    }
    this.masking = true;
    return false;
  }

  /** Whether files created in `dir` inherit an ACL from it: one getxattr there, the first time. */
  handsDownAcls(dir: Dir): boolean {
    if (dir !== this.current) return aclOn(dir);
    this.aclHandedDown ??= aclOn(dir);
    return this.aclHandedDown;
  }

  close(): void {
    this.current = null;
    this.directories.close();
  }
}

function aclOn(dir: Dir): boolean {
  const lib = native();
  return lib !== null && hasDefaultAcl(lib, dir.fd);
}
