/**
 * The last steps of a file or symlink copy in the worker: owner, extended
 * attributes (ACLs, capabilities), mode and times, in the order the kernel
 * needs: a chown clears a file capability and the set-id bits, so it comes
 * first; an access ACL rewrites the mode's group bits, so the mode comes after
 * it; times last. Attributes are read from the source's open descriptor (one
 * list call for a file that has none) and written on the copy's descriptor
 * before it gets its final name. Each returns the LOST_* bits of what the
 * destination could not hold.
 *
 * A file made in a directory with a default ACL inherits an access ACL there;
 * where its source has none, it is removed, as cp -a removes it (also with
 * --no-xattrs: a copy's permissions are its source's mode, not what the
 * destination hands down).
 */
import fs from 'node:fs';
import type { Owner, WorkerSettings } from '../shared/jobs.js';
import { ownerFor, type Metadata } from '../shared/metadata.js';
import { errnoError, native, type Native, type Target } from '../shared/native.js';
import { dropInheritedAcls, hasAccessAcl, LOST_UNAVAILABLE, readXattrs, writeXattrs, type Xattr } from '../shared/xattrs.js';
import { SourceFailure, type BatchContext, type FileCopy } from './job-result.js';
import { chownAt, pathOf, target, type Place } from './places.js';

const NONE: Xattr[] = [];

/** The source's attributes to copy, when the run copies them; a failure to read them is the source's. */
export function sourceXattrs(settings: WorkerSettings, source: Target): Xattr[] {
  const lib = settings.owners.xattrs ? native() : null;
  if (!lib) return NONE;
  try {
    return readXattrs(lib, source);
  } catch (error) {
    throw new SourceFailure(error);
  }
}

/**
 * Owner, attributes, mode and times of a written file open as `output` (at file.temp), from its source's
 * stats and open descriptor; `chmod` says whether the mode must be set even without an ACL.
 */
export function finishFile(output: number, file: FileCopy, context: BatchContext, chmod: boolean): number {
  const source = file.sourceFile!;
  // Attributes from the source's descriptor: one list call for a file that has none.
  const xattrs = sourceXattrs(context.settings, file.input);
  const owner = ownerFor(source, context.settings.owners);
  // Whether files made in its directory inherit a default ACL: asked once per directory.
  const aclHandedDown = context.place.handsDownAcls(file.temp!.dir);
  const lib = native();
  let lost = lib ? 0 : LOST_UNAVAILABLE;
  if (owner) fs.fchownSync(output, owner.uid, owner.gid);
  if (xattrs.length > 0) lost |= writeXattrs(lib!, output, xattrs);
  if (aclHandedDown && lib) dropInheritedAcls(lib, output, xattrs, false);
  if (owner || chmod || hasAccessAcl(xattrs)) fs.fchmodSync(output, source.mode);
  setTimes(lib, output, source);
  return lost;
}

/** Owner, attributes and times of a symlink just made at `place`, never following it. */
export function finishSymlink(place: Place, link: Metadata, owner: Owner | undefined, xattrs: readonly Xattr[]): number {
  const lib = native();
  let lost = lib ? 0 : LOST_UNAVAILABLE;
  if (owner) chownAt(place, owner.uid, owner.gid);
  if (xattrs.length > 0) lost |= writeXattrs(lib!, target(place), xattrs);
  setTimes(lib, place, link);
  return lost;
}

/** To the nanosecond where the calls for it are loaded; else Node's (to the microsecond). On a descriptor, or a name never followed. */
export function setTimes(lib: Native | null, entry: number | Place, metadata: Metadata): void {
  if (lib) {
    const errno = lib.setTimes(typeof entry === 'number' ? entry : target(entry), metadata.atimeNs, metadata.mtimeNs);
    if (errno !== 0) throw errnoError(errno, typeof entry === 'number' ? 'futimens' : 'utimensat');
  } else if (typeof entry === 'number') fs.futimesSync(entry, metadata.atime, metadata.mtime);
  else fs.lutimesSync(pathOf(entry), metadata.atime, metadata.mtime);
}
