/**
 * Extended attributes of an entry, copied as `cp -a` copies them: user.* always,
 * POSIX ACLs (system.posix_acl_access and _default, which the owner may set),
 * trusted.* and security.* (file capabilities, SELinux labels) as root. Used by
 * the workers for files and symlinks and by the parent for directories. An entry
 * made in a destination directory that has a default ACL inherits ACLs from it;
 * those its source does not have are removed, as cp -a removes them.
 *
 * What the destination cannot hold (ENOTSUP, or EPERM for a namespace it
 * refuses) is not a failure: the copy goes on and the entry reports what it
 * lost, as bits (LOST_*), which the summary counts.
 */
import { ENODATA, EPERM, errnoError, isNotSupported, type Native, type Target } from './native.js';

/** Extended attributes the destination does not support. */
export const LOST_XATTRS = 1;
/** ACLs the destination does not support. */
export const LOST_ACLS = 2;
/** Extended attributes the destination refused (EPERM). */
const LOST_REFUSED = 4;
/** Extended attributes, ACLs and nanosecond times: the system calls for them could not be loaded here. */
export const LOST_UNAVAILABLE = 8;

/** Each bit's key in the summary (CopySummary.metadataNotKept). */
export type LossKey = 'xattrsNotSupported' | 'aclsNotSupported' | 'xattrsRefused' | 'unavailable';
export const LOSSES: ReadonlyArray<{ bit: number; key: LossKey }> = [
  { bit: LOST_XATTRS, key: 'xattrsNotSupported' },
  { bit: LOST_ACLS, key: 'aclsNotSupported' },
  { bit: LOST_REFUSED, key: 'xattrsRefused' },
  { bit: LOST_UNAVAILABLE, key: 'unavailable' },
];

const ACL_ACCESS = 'system.posix_acl_access';
const ACL_DEFAULT = 'system.posix_acl_default';
const CAPABILITY = 'security.capability';
/** What a default ACL hands down: an access ACL to every entry made under it, and itself to a directory. */
const FILE_ACLS: readonly string[] = [ACL_ACCESS];
const DIRECTORY_ACLS: readonly string[] = [ACL_ACCESS, ACL_DEFAULT];

const AS_ROOT = process.geteuid?.() === 0;

export interface Xattr {
  name: string;
  value: Buffer;
}

const NONE: Xattr[] = [];

/** Whether this process copies attributes of that name. */
export function copyable(name: string): boolean {
  return (
    name.startsWith('user.') ||
    name === ACL_ACCESS ||
    name === ACL_DEFAULT ||
    (AS_ROOT && (name.startsWith('trusted.') || name.startsWith('security.')))
  );
}

/**
 * The copyable attributes of a source entry, by descriptor or by path (never
 * following its last component). One list call when there are none, the common
 * case. Throws (a system error) when they cannot be read.
 */
export function readXattrs(lib: Native, source: Target): Xattr[] {
  const names = lib.list(source);
  if (typeof names === 'number') throw errnoError(names, 'listxattr');
  if (names.length === 0) return NONE;
  let found: Xattr[] | null = null;
  for (const name of names) {
    if (!copyable(name)) continue;
    const value = lib.get(source, name);
    if (typeof value === 'number') {
      // Removed since it was listed.
      if (value === ENODATA) continue;
      throw errnoError(value, 'getxattr');
    }
    (found ??= []).push({ name, value });
  }
  return found ?? NONE;
}

/**
 * Gives a new entry its attributes, a file capability last (a chown clears it:
 * the caller sets the owner before). Returns the LOST_* bits of what the
 * destination could not hold; throws on any other error.
 */
export function writeXattrs(lib: Native, target: Target, xattrs: readonly Xattr[]): number {
  let lost = 0;
  let capability: Xattr | undefined;
  for (const xattr of xattrs) {
    if (xattr.name === CAPABILITY) capability = xattr;
    else lost |= setOne(lib, target, xattr);
  }
  if (capability) lost |= setOne(lib, target, capability);
  return lost;
}

export function hasAccessAcl(xattrs: readonly Xattr[]): boolean {
  return xattrs.some((xattr) => xattr.name === ACL_ACCESS);
}

/** Whether a directory has a default ACL: what is created in it then inherits ACLs of its own. */
export function hasDefaultAcl(lib: Native, directory: Target): boolean {
  return has(lib, directory, ACL_DEFAULT);
}

/**
 * Removes the ACLs an entry inherited from its directory's default ACL (an access
 * ACL, and on a directory the default ACL too) that its source does not have,
 * as cp -a does: its mode alone then says who may use it. Removing leaves the
 * mode as it is. Each is looked for first, since the kernel refuses (EPERM) to
 * remove even an absent ACL from an entry the process does not own.
 */
export function dropInheritedAcls(lib: Native, target: Target, wanted: readonly Xattr[], isDirectory: boolean): void {
  for (const name of isDirectory ? DIRECTORY_ACLS : FILE_ACLS) {
    if (wanted.some((xattr) => xattr.name === name) || !has(lib, target, name)) continue;
    const errno = lib.remove(target, name);
    if (errno !== 0 && errno !== ENODATA) throw errnoError(errno, 'removexattr');
  }
}

/**
 * Makes an existing entry's copyable attributes those of its source: sets what
 * differs, removes what the source lacks. Returns the LOST_* bits, and whether
 * anything changed (an ACL written changes the mode's group bits: the caller
 * sets the mode after).
 */
export function syncXattrs(lib: Native, target: Target, wanted: readonly Xattr[]): { lost: number; changed: boolean } {
  const names = lib.list(target);
  if (typeof names === 'number') throw errnoError(names, 'listxattr');
  let lost = 0;
  let changed = false;
  const present = new Set(names.filter(copyable));
  const differing: Xattr[] = [];
  for (const xattr of wanted) {
    if (present.delete(xattr.name)) {
      const value = lib.get(target, xattr.name);
      if (Buffer.isBuffer(value) && value.equals(xattr.value)) continue;
    }
    differing.push(xattr);
  }
  for (const name of present) {
    const errno = lib.remove(target, name);
    if (errno !== 0 && errno !== ENODATA) throw errnoError(errno, 'removexattr');
    changed = true;
  }
  if (differing.length > 0) {
    lost = writeXattrs(lib, target, differing);
    changed = true;
  }
  return { lost, changed };
}

/** Whether `target` has the attribute `name`; false where its file system has none of that kind. */
function has(lib: Native, target: Target, name: string): boolean {
  const value = lib.get(target, name);
  if (typeof value !== 'number') return true;
  if (value === ENODATA || isNotSupported(value)) return false;
  throw errnoError(value, 'getxattr');
}

function setOne(lib: Native, target: Target, xattr: Xattr): number {
  const errno = lib.set(target, xattr.name, xattr.value);
  if (errno === 0) return 0;
  if (isNotSupported(errno)) return xattr.name === ACL_ACCESS || xattr.name === ACL_DEFAULT ? LOST_ACLS : LOST_XATTRS;
  if (errno === EPERM) return LOST_REFUSED;
  throw errnoError(errno, 'setxattr');
}
