/**
 * Reaches the directories of a tree without ever following a symlink planted
 * in it during the run: the destination's, where the worker writes, and the
 * source's, where the walk lists and the worker reads. Each directory is opened
 * through its parent's descriptor (`/proc/<pid>/fd/<parent>/<name>` with
 * O_NOFOLLOW and O_DIRECTORY), so a component swapped for a symlink fails
 * (ELOOP, ENOTDIR) instead of leading outside the tree, and calls on an entry
 * go through its directory's descriptor in the same way. Only the root is
 * opened by its path: it may be a symlink the user chose to copy from or into.
 *
 * Linux only: where /proc/self/fd does not exist, paths are used as they are.
 */
import fs from 'node:fs';
import { basename, dirname } from 'node:path';
import { fsPath, joinRaw, parentOf, type FsPath, type RawPath } from './raw-path.js';

const DESCRIPTOR_PATHS = fs.existsSync('/proc/self/fd');
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const OPEN_ROOT = O_RDONLY | (O_DIRECTORY ?? 0);
// Linux's O_PATH, which fs.constants lacks (the same value on every architecture Node is built for):
// a descriptor only to look names up through needs search permission on the directory, not read
// permission, as reaching an entry by its path does.
const OPEN_ROOT_TO_LOOK_UP = DESCRIPTOR_PATHS ? 0o10000000 | (O_DIRECTORY ?? 0) : OPEN_ROOT;
// /proc/<pid>/fd spares each call resolving the /proc/self symlink (0.4 µs measured, on every
// source file a worker reads); /proc/self/fd where /proc belongs to another pid namespace.
const FD_DIRECTORY = DESCRIPTOR_PATHS && fs.readlinkSync('/proc/self') === String(process.pid) ? `/proc/${process.pid}/fd` : '/proc/self/fd';
// Descriptors kept open; a walk goes depth first, so its ancestors stay among the most recent.
const MAX_OPEN = 64;
// Linux's O_CLOEXEC (fs.constants lacks it; the same value on every architecture koffi is loaded on, libc.ts).
// Node opens its own descriptors close-on-exec; an openChild hook (koffi's openat) gets only the flags it is
// given, and the parent forks workers while such handles are open (the census's): none may outlive the exec.
const O_CLOEXEC = 0o2000000;

export class DirectoryHandles {
  /** Open directories by path relative to the root ('' is the root), least recently used first. */
  private readonly open = new Map<RawPath, number>();
  /** Directories whose descriptors calls on other threads use (withEntryPath()), by how many: never closed to make room. */
  private readonly held = new Map<RawPath, number>();

  private readonly openRoot: number;
  private readonly openChild: number;
  private readonly openAt: ((parent: number, name: RawPath, flags: number) => number) | undefined;

  /**
   * `lookUpOnly`: the descriptors are never read from (a source tree, where a user may search a directory but not list it).
   * `openChild`: opens a directory by its name in its parent's descriptor (openat), where the caller has that call;
   * else through the parent's /proc path.
   */
  constructor(
    private readonly root: RawPath,
    { lookUpOnly = false, openChild }: { lookUpOnly?: boolean; openChild?: (parent: number, name: RawPath, flags: number) => number } = {},
  ) {
    this.openRoot = lookUpOnly ? OPEN_ROOT_TO_LOOK_UP : OPEN_ROOT;
    this.openChild = this.openRoot | (O_NOFOLLOW ?? 0);
    this.openAt = DESCRIPTOR_PATHS ? openChild : undefined;
  }

  /** A descriptor of the directory at `relative`; throws the system's error (ELOOP: a symlink is in the way). */
  descriptor(relative: RawPath): number {
    const cached = this.open.get(relative);
    if (cached !== undefined) {
      this.open.delete(relative);
      this.open.set(relative, cached);
      return cached;
    }
    const parent = parentOf(relative);
    const name = relative.slice(relative.lastIndexOf('/') + 1);
    const fd =
      parent === null || !DESCRIPTOR_PATHS
        ? fs.openSync(fsPath(joinRaw(this.root, relative)), parent === null ? this.openRoot : this.openChild)
        : this.openAt
          ? this.openAt(this.descriptor(parent), name, this.openChild | O_CLOEXEC)
          : fs.openSync(fsPath(`${descriptorPath(this.descriptor(parent))}/${name}`), this.openChild);
    this.open.set(relative, fd);
    for (const [oldest, oldFd] of this.open) {
      if (this.open.size <= MAX_OPEN) break;
      if (this.held.has(oldest)) continue;
      this.open.delete(oldest);
      fs.closeSync(oldFd);
    }
    return fd;
  }

  /** A path for fs calls that names the directory at `relative` itself, through its descriptor. */
  directoryPath(relative: RawPath): FsPath {
    return DESCRIPTOR_PATHS ? descriptorPath(this.descriptor(relative)) : fsPath(joinRaw(this.root, relative));
  }

  /** A path for fs calls on the entry at `relative`, resolved through its directory's descriptor; the root ('') by its path. */
  entryPath(relative: RawPath): FsPath {
    if (relative === '' || !DESCRIPTOR_PATHS) return fsPath(joinRaw(this.root, relative));
    const slash = relative.lastIndexOf('/');
    return fsPath(`${descriptorPath(this.descriptor(directoryOf(relative)))}/${relative.slice(slash + 1)}`);
  }

  /**
   * `call` given entryPath(), for a call that runs on another thread (Node's thread pool) while this one
   * goes on, opening others: the directory's descriptor stays open, naming the same directory, until it settles.
   */
  async withEntryPath<T>(relative: RawPath, call: (path: FsPath) => Promise<T>): Promise<T> {
    const path = this.entryPath(relative);
    const directory = directoryOf(relative);
    this.held.set(directory, (this.held.get(directory) ?? 0) + 1);
    try {
      return await call(path);
    } finally {
      const count = this.held.get(directory)!;
      if (count === 1) this.held.delete(directory);
      else this.held.set(directory, count - 1);
    }
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

/** The directory an entry at `relative` (not the root) is in. */
function directoryOf(relative: RawPath): RawPath {
  const slash = relative.lastIndexOf('/');
  return slash < 0 ? '' : relative.slice(0, slash);
}

function descriptorPath(fd: number): string {
  return `${FD_DIRECTORY}/${fd}`;
}
