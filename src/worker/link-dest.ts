/**
 * --link-dest, in the worker: a regular file that is not at the destination yet,
 * and that one of the link-dest trees holds unchanged at the same relative path,
 * is hard-linked from there instead of copied, as rsync does. Unchanged means what
 * a copy would carry: a regular file of the same size and mtime (compared as a
 * re-run compares them), the same permission bits, the owner (and, as root, the
 * group) the copy would get, and, when attributes are copied, the same attributes
 * and ACLs. The first tree that holds such a file wins.
 *
 * Each tree is reached as the source is (places.ts: by descriptors, never
 * following a symlink below its root), and opened once per batch. A link that
 * cannot be made (another file system, EXDEV; too many links, EMLINK; anything
 * else) is no failure: the file is copied as it would have been. Nothing here runs
 * when the option is off.
 */
import { errorRecord } from '../shared/errors.js';
import type { OwnerPolicy, WorkerSettings } from '../shared/jobs.js';
import { sameMtime, type SourceFile } from '../shared/metadata.js';
import { native, S_IFMT, S_IFREG, type EntryStats, type Target } from '../shared/native.js';
import type { JobResult } from '../shared/protocol.js';
import { parentOf, type RawPath } from '../shared/raw-path.js';
import { readXattrs, type Xattr } from '../shared/xattrs.js';
import { failed, hashFile, type BatchContext, type FileCopy } from './job-result.js';
import { linkAt, statAt, target, type Place } from './places.js';
import { Directories } from './trees.js';

// Without root, a copy is ours whoever owns the source: a file to share must be ours too.
const OUR_UID = process.geteuid?.() ?? -1;

/** The link-dest trees of one batch, opened as they are first needed and closed with the batch. */
export class LinkDests {
  private readonly trees: Array<{ directories: Directories; missing: RawPath | null }>;

  constructor(roots: readonly RawPath[]) {
    this.trees = roots.map((root) => ({ directories: new Directories(root, { lookUpOnly: true }), missing: null }));
  }

  /** The first tree's entry at `path` that a copy of `source` would be identical to, or null. */
  find(path: RawPath, source: SourceFile, sourceEntry: Target, { owners, modifyWindow }: WorkerSettings): Place | null {
    const parent = parentOf(path) ?? '';
    for (const tree of this.trees) {
      // A directory the tree lacks is asked for once per run of its files, not once per file.
      if (tree.missing === parent) continue;
      let place: Place;
      let stats: EntryStats | null;
      try {
        place = tree.directories.place(path);
        tree.missing = null;
        stats = statAt(place);
      } catch {
        // Not a directory there (ENOENT, ENOTDIR), a symlink in the way (ELOOP), or not ours to search.
        tree.missing = parent;
        continue;
      }
      if (stats !== null && sameFile(stats, source, owners, modifyWindow) && sameXattrs(sourceEntry, target(place), owners)) return place;
    }
    return null;
  }

  close(): void {
    for (const { directories } of this.trees) directories.close();
  }
}

/**
 * The file linked from a link-dest tree (in a dry run, found there), or null when
 * it must be copied: no tree holds it unchanged, or the link could not be made.
 */
export function linkFromDests(linkDests: LinkDests, file: FileCopy, context: BatchContext): JobResult | null {
  const { dryRun, digest } = context.settings;
  const source = file.sourceFile!;
  let found: Place | null;
  try {
    found = linkDests.find(file.relative, source, file.input >= 0 ? file.input : target(file.from), context.settings);
  } catch {
    // The source's attributes could not be read: the copy will say why.
    return null;
  }
  if (found === null) return null;
  if (dryRun) return { outcome: 'linked', size: source.size };
  try {
    linkAt(found, file.to);
  } catch {
    return null;
  }
  if (!digest) return { outcome: 'linked', size: source.size };
  try {
    return { outcome: 'linked', size: source.size, digest: hashFile(file.to, context.buffer) };
  } catch (error) {
    return failed(errorRecord(error, 'read', file.final));
  }
}

function sameFile(stats: EntryStats, source: SourceFile, owners: OwnerPolicy, modifyWindow: number): boolean {
  if ((stats.mode & S_IFMT) !== S_IFREG || stats.size !== source.size || !sameMtime(source.mtimeNs, stats.mtimeNs, modifyWindow)) return false;
  if ((stats.mode & 0o7777) !== source.mode) return false;
  return owners.preserve ? stats.uid === source.uid && stats.gid === source.gid : stats.uid === OUR_UID;
}

/** The same copyable attributes by name and value, when the run copies them. */
function sameXattrs(source: Target, candidate: Target, owners: OwnerPolicy): boolean {
  const lib = owners.xattrs ? native() : null;
  if (lib === null) return true;
  const wanted = readXattrs(lib, source);
  let there: Xattr[];
  try {
    there = readXattrs(lib, candidate);
  } catch {
    return false;
  }
  if (wanted.length !== there.length) return false;
  const byName = new Map(there.map(({ name, value }) => [name, value]));
  return wanted.every(({ name, value }) => byName.get(name)?.equals(value) === true);
}
