/**
 * Reaches the directories of a destination tree without ever following a
 * symlink planted in it during the run. Each directory is opened through its
 * parent's descriptor (`/proc/self/fd/<parent>/<name>` with O_NOFOLLOW and
 * O_DIRECTORY), so a component swapped for a symlink fails (ELOOP, ENOTDIR)
 * instead of leading outside the tree, and calls on an entry go through its
 * directory's descriptor in the same way. Only the root is opened by its path:
 * it may be a symlink the user chose to copy into.
 *
 * Linux only: where /proc/self/fd does not exist, paths are used as they are.
 */
import fs from 'node:fs';
import { basename, dirname } from 'node:path';
import { fsPath, joinRaw, parentOf, type FsPath, type RawPath } from './raw-path.js';

const DESCRIPTOR_PATHS = fs.existsSync('/proc/self/fd');
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const OPEN_ROOT = O_RDONLY | (O_DIRECTORY ?? 0);
const OPEN_CHILD = OPEN_ROOT | (O_NOFOLLOW ?? 0);
// Descriptors kept open; a walk goes depth first, so its ancestors stay among the most recent.
const MAX_OPEN = 64;

export class DirectoryHandles {
  /** Open directories by path relative to the root ('' is the root), least recently used first. */
  private readonly open = new Map<RawPath, number>();

  constructor(private readonly root: RawPath) {}

  /** A descriptor of the directory at `relative`; throws the system's error (ELOOP: a symlink is in the way). */
  descriptor(relative: RawPath): number {
    const cached = this.open.get(relative);
    if (cached !== undefined) {
      this.open.delete(relative);
      this.open.set(relative, cached);
      return cached;
    }
    const parent = parentOf(relative);
    const fd =
      parent === null || !DESCRIPTOR_PATHS
        ? fs.openSync(fsPath(joinRaw(this.root, relative)), parent === null ? OPEN_ROOT : OPEN_CHILD)
        : fs.openSync(fsPath(`${descriptorPath(this.descriptor(parent))}/${relative.slice(relative.lastIndexOf('/') + 1)}`), OPEN_CHILD);
    this.open.set(relative, fd);
    for (const [oldest, oldFd] of this.open) {
      if (this.open.size <= MAX_OPEN) break;
      this.open.delete(oldest);
      fs.closeSync(oldFd);
    }
    return fd;
  }

  /** A path for fs calls that names the directory at `relative` itself, through its descriptor. */
  directoryPath(relative: RawPath): FsPath {
    return DESCRIPTOR_PATHS ? descriptorPath(this.descriptor(relative)) : fsPath(joinRaw(this.root, relative));
  }

  /** A path for fs calls on the entry at `relative` (not the root), resolved through its directory's descriptor. */
  entryPath(relative: RawPath): FsPath {
    if (!DESCRIPTOR_PATHS) return fsPath(joinRaw(this.root, relative));
    const slash = relative.lastIndexOf('/');
    const directory = slash < 0 ? '' : relative.slice(0, slash);
    return fsPath(`${descriptorPath(this.descriptor(directory))}/${relative.slice(slash + 1)}`);
  }

  /** A directory was removed or replaced: its descriptor, and those below it, no longer name what is there. */
  forget(relative: RawPath): void {
    for (const [path, fd] of this.open) {
      if (path === relative || relative === '' || path.startsWith(`${relative}/`)) {
        this.open.delete(path);
        fs.closeSync(fd);
      }
    }
  }

  closeAll(): void {
    this.forget('');
  }
}

/**
 * The tree a job's destination entry lies in, and the entry's path inside it. A
 * single-file copy has one job, named '': its tree is the destination's directory.
 */
export function entryLocation(destination: RawPath, path: RawPath): { root: RawPath; relative: RawPath } {
  return path === '' ? { root: dirname(destination), relative: basename(destination) } : { root: destination, relative: path };
}

function descriptorPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
