/**
 * The worker writes every entry from inside its destination directory: it
 * enters the directory through descriptors opened without following symlinks
 * (shared/directory-handles.ts), then names entries without a slash. A
 * directory of the destination swapped for a symlink during the run is met as
 * ELOOP or ENOTDIR, and nothing is written through it.
 *
 * It also learns, per directory, which mode bits a new file keeps: a default
 * ACL on the directory masks the mode a file is created with, so a file whose
 * bits are not known to survive is checked once, and fixed where they did not.
 * And whether the directory has a default ACL at all, from which new files
 * inherit ACLs: asked once, the first time a file there needs to know.
 */
import fs from 'node:fs';
import { DirectoryHandles, entryLocation } from '../shared/directory-handles.js';
import { native } from '../shared/native.js';
import { parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import { hasDefaultAcl } from '../shared/xattrs.js';

/** The directory entered, as seen from inside it. */
const HERE: FsPath = '.';

export class WorkingDirectory {
  private readonly handles: DirectoryHandles;
  /** A single-file copy's one entry (its job is named ''): the destination's own name. */
  private readonly singleName: RawPath;
  /** The directory entered, relative to the root; null before the first. */
  private current: RawPath | null = null;
  /** Mode bits that files created in the current directory are known to keep. */
  private keptBits = 0;
  /** Files created in the current directory may lose mode bits: each is given its mode. */
  private masking = false;
  /** The current directory has a default ACL; null until asked there. */
  private aclHandedDown: boolean | null = null;

  constructor(destination: RawPath, singleFile: boolean) {
    const { root, relative } = singleFile ? entryLocation(destination, '') : { root: destination, relative: '' };
    this.handles = new DirectoryHandles(root);
    this.singleName = relative;
  }

  /** The name of the entry at `path` (a job's path) in its directory. */
  nameOf(path: RawPath): RawPath {
    return path === '' ? this.singleName : path.slice(path.lastIndexOf('/') + 1);
  }

  /** Enters the directory of the entry at `path`; returns the entry's name there. */
  enter(path: RawPath): RawPath {
    const name = this.nameOf(path);
    const directory = parentOf(path) ?? '';
    if (directory !== this.current) {
      const where = this.handles.directoryPath(directory);
      // process.chdir() takes a string: only a non-Linux fallback path can be non-ASCII, and UTF-8 is its best guess.
      process.chdir(typeof where === 'string' ? where : where.toString('utf8'));
      this.current = directory;
      this.keptBits = 0;
      this.masking = false;
      this.aclHandedDown = null;
    }
    return name;
  }

  /** A path for fs calls on another entry of the destination tree (a hard link's first name). */
  entryPath(path: RawPath): FsPath {
    return this.handles.entryPath(path);
  }

  /** Whether the file just created as `fd` with `mode` has it exactly; a stat only while that is not known. */
  keepsMode(fd: number, mode: number): boolean {
    if (this.masking) return false;
    if ((mode & ~this.keptBits) === 0) return true;
    // BigInt stats, as every other stat here: one kind of Stats object keeps V8's compiled code shared.
    if (Number(fs.fstatSync(fd, { bigint: true }).mode & 0o7777n) === mode) {
      this.keptBits |= mode;
      return true;
    }
    this.masking = true;
    return false;
  }

  /** Whether files created in the current directory inherit an ACL from it: one getxattr there, the first time. */
  handsDownAcls(): boolean {
    if (this.aclHandedDown === null) {
      const lib = native();
      this.aclHandedDown = lib !== null && hasDefaultAcl(lib, HERE);
    }
    return this.aclHandedDown;
  }

  close(): void {
    this.handles.closeAll();
  }
}
