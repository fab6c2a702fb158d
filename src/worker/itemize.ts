/**
 * --itemize-changes, in the worker: which attributes of an entry already at the
 * destination differ from its source's, in rsync's letters `cstpoguax` ('.' for
 * the same), looked at before anything is written. Runs only when
 * WorkerSettings.itemize asks; the parent adds the first two columns
 * (run/itemize.ts). What the run leaves as it is (a file kept by 'never' or
 * 'older') is reported as the same.
 */
import type { OverwritePolicy, OwnerPolicy } from '../shared/jobs.js';
import { sameMtime } from '../shared/metadata.js';
import { native, S_IFMT, S_IFREG, type EntryStats, type Target } from '../shared/native.js';
import { readXattrs, type Xattr } from '../shared/xattrs.js';

/** A new entry, or one put where an entry of another type was: everything is new. */
export const ALL_NEW = '+++++++++';
/** Nothing differs, or the run left it as it was. */
export const UNCHANGED = '.........';

export interface ItemizeCheck {
  /** The source's type (S_IFREG, S_IFLNK). */
  type: number;
  /** The source's permission bits, owner, size and time. */
  source: Pick<EntryStats, 'mode' | 'uid' | 'gid' | 'size' | 'mtimeNs'>;
  existing: EntryStats;
  owners: OwnerPolicy;
  modifyWindow: number;
  /** 'c': a file's content differs (known under 'checksum' only), or a symlink's text. */
  contentDiffers: boolean;
  /** Where both entries' attributes are read; null when the run does not copy them. */
  xattrs: { source: Target; destination: Target } | null;
}

/** The nine attribute letters of an entry replaced or kept and refreshed. */
export function attributeChanges({ type, source, existing, owners, modifyWindow, contentDiffers, xattrs }: ItemizeCheck): string {
  if (type !== (existing.mode & S_IFMT)) return ALL_NEW;
  const isFile = type === S_IFREG;
  const acls = xattrs === null ? null : differingXattrs(xattrs.source, xattrs.destination);
  const permissions = acls?.acl ? 0o7000 : 0o7777;
  return (
    (contentDiffers ? 'c' : '.') +
    (isFile && source.size !== existing.size ? 's' : '.') +
    (sameMtime(source.mtimeNs, existing.mtimeNs, modifyWindow) ? '.' : 't') +
    // Linux gives a symlink no permissions of its own. Where the access ACL differs, the rwx bits are
    // its entries (owner, mask, other): reported as the ACL ('a'), as rsync does.
    (isFile && (source.mode & permissions) !== (existing.mode & permissions) ? 'p' : '.') +
    (owners.preserve && source.uid !== existing.uid ? 'o' : '.') +
    (owners.preserve && source.gid !== existing.gid ? 'g' : '.') +
    '.' +
    (acls?.acl ? 'a' : '.') +
    (acls?.other ? 'x' : '.')
  );
}

/** The attributes of an entry the run keeps as it is: none changes. */
export function keptAsIs(policy: OverwritePolicy): boolean {
  return policy === 'never' || policy === 'older';
}

/** Whether the copyable ACLs, and the other copyable attributes, differ by name or value. Unreadable ones count as the same. */
function differingXattrs(source: Target, destination: Target): { acl: boolean; other: boolean } {
  const lib = native();
  const result = { acl: false, other: false };
  if (lib === null) return result;
  let wanted: Xattr[];
  let there: Xattr[];
  try {
    wanted = readXattrs(lib, source);
    there = readXattrs(lib, destination);
  } catch {
    return result;
  }
  const mark = (name: string): void => {
    if (name.startsWith('system.posix_acl_')) result.acl = true;
    else result.other = true;
  };
  const byName = new Map(there.map(({ name, value }) => [name, value]));
  for (const { name, value } of wanted) {
    if (byName.get(name)?.equals(value) !== true) mark(name);
    byName.delete(name);
  }
  for (const name of byName.keys()) mark(name);
  return result;
}
