/**
 * The extended attributes (ACLs among them) of the directories a run made, given
 * at the end by destination/directories.ts: read from each source directory
 * through its own descriptor, and without the ACLs a destination directory's
 * default ACL handed down where the source has none, as cp -a removes them.
 */
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import type { OwnerPolicy } from '../shared/jobs.js';
import type { Native, Target } from '../shared/native.js';
import { joinRaw, parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import { dropInheritedAcls, hasDefaultAcl, LOST_UNAVAILABLE, readXattrs, syncXattrs, writeXattrs, type Xattr } from '../shared/xattrs.js';

/** A directory the run made or found, as far as its attributes go. */
export interface AttributeTarget {
  /** Relative to the roots. */
  path: RawPath;
  /** The source directory as the walk found it (by path); undefined when it has none to give. */
  source: FsPath | undefined;
  /** It was there before this run: its own attributes are compared with the source's. */
  existed: boolean;
}

const NO_XATTRS: readonly Xattr[] = [];

export class DirectoryAttributes {
  /** The source tree's directories, reached without following a symlink planted since the walk. */
  private readonly sources: DirectoryHandles;

  constructor(
    private readonly source: RawPath,
    /** The destination's directories. */
    private readonly handles: DirectoryHandles,
    private readonly policy: OwnerPolicy,
    /** Null where the native calls cannot load: nothing is copied, and each directory says so. */
    private readonly lib: Native | null,
  ) {
    this.sources = new DirectoryHandles(source);
  }

  /**
   * The source directory's extended attributes, given on the copy's descriptor
   * (only when it has some, or had some of its own before this run), without the
   * ACLs it inherited where it was made (`inherited`), even with --no-xattrs, as
   * for files. Returns the LOST_* bits, and whether any were written.
   */
  copy(directory: AttributeTarget, inherited: boolean, failures: ErrorRecord[]): { lost: number; changed: boolean } {
    const { lib } = this;
    if (!lib) return { lost: LOST_UNAVAILABLE, changed: false };
    const source = this.sourceAt(directory, failures);
    const wanted = source === undefined ? NO_XATTRS : readXattrs(lib, source);
    if (inherited) dropInheritedAcls(lib, this.handles.descriptor(directory.path), wanted, true);
    if (source === undefined) return { lost: 0, changed: false };
    if (directory.existed) return syncXattrs(lib, this.handles.descriptor(directory.path), wanted);
    if (wanted.length === 0) return { lost: 0, changed: false };
    return { lost: writeXattrs(lib, this.handles.descriptor(directory.path), wanted), changed: true };
  }

  /**
   * The directories made in this run that inherited ACLs where they were made,
   * from a default ACL there. One made in this run hands down only what it
   * inherited (its source's default ACL is given at the end, after its children
   * were made), so the only directories asked, once each, are the root and those
   * that were there before the run, when a directory was made in them (or, for
   * the root, when it was made itself).
   */
  inheritedAcls(made: readonly AttributeTarget[], existing: ReadonlySet<RawPath>): Set<RawPath> {
    const inherited = new Set<RawPath>();
    const { lib } = this;
    if (!lib) return inherited;
    const asked = new Map<RawPath, boolean>();
    const handsDown = (path: RawPath): boolean => {
      if (!asked.has(path)) asked.set(path, this.defaultAclAt(lib, path));
      return asked.get(path)!;
    };
    for (const directory of made) {
      if (directory.existed) continue;
      const parent = parentOf(directory.path);
      // A root made in this run has a default ACL only if it inherited one from the directory it was made in.
      if (parent === null ? handsDown('') : inherited.has(parent) || (existing.has(parent) && handsDown(parent))) inherited.add(directory.path);
    }
    return inherited;
  }

  close(): void {
    this.sources.closeAll();
  }

  /**
   * Where a directory's source is read for its attributes: its own descriptor, reached
   * through its parents' without following a symlink, so a source directory swapped for one
   * since the walk is not read through: that is a failure, and the copy keeps no attributes
   * from it. A directory we may search but not read is read by its path, as the walk found it.
   */
  private sourceAt(directory: AttributeTarget, failures: ErrorRecord[]): Target | undefined {
    if (directory.source === undefined || !this.policy.xattrs) return undefined;
    try {
      return this.sources.descriptor(directory.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') return directory.source;
      failures.push(errorRecord(error, 'read', joinRaw(this.source, directory.path)));
      return undefined;
    }
  }

  /** Whether a destination directory has a default ACL; one that cannot be asked may have (what fails there is reported as it is finalized). */
  private defaultAclAt(lib: Native, path: RawPath): boolean {
    try {
      return hasDefaultAcl(lib, this.handles.descriptor(path));
    } catch {
      return true;
    }
  }
}
