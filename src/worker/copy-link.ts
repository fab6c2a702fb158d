/**
 * Copies the two kinds of link job: a symlink (its target text, times and
 * owner), and a second name of a hard-linked file, linked to the copy of its
 * first name. As with files, nothing stands at a final name half made.
 */
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import type { HardLinkJob, SymlinkJob } from '../shared/jobs.js';
import { metadataFromStats, ownerFor, sameMtime, type Metadata } from '../shared/metadata.js';
import { ENOENT, errnoError, native, S_IFLNK, S_IFMT, type EntryStats } from '../shared/native.js';
import type { JobResult } from '../shared/protocol.js';
import { pathFromBytes, type RawPath } from '../shared/raw-path.js';
import { ALL_NEW, attributeChanges, UNCHANGED } from './itemize.js';
import { tempPathFor, writingPathFor } from '../shared/names-on-disk.js';
import type { Xattr } from '../shared/xattrs.js';
import { createExclusive, CREATED, failed, hashFile, OVERWRITTEN, SKIPPED, SourceFailure, type BatchContext, type JobPaths } from './job-result.js';
import { finishSymlink, setTimes, sourceXattrs } from './metadata-copy.js';
import { keepReplaced } from './keep-replaced.js';
import { chownAt, linkAt, readlinkAt, renameAt, sibling, statAt, symlinkAt, target, unlinkAtQuietly, type Place } from './places.js';
import { existingAt, isSymlink, keepsHardLink, keepsSymlink } from './up-to-date.js';

/** The raw name of a place, as temporary names are made from. */
function rawName(place: Place): RawPath {
  return typeof place.name === 'string' ? place.name : place.name.toString('latin1');
}

export function copySymlink(job: SymlinkJob, paths: JobPaths, context: BatchContext): JobResult {
  let text: Buffer;
  let metadata: Metadata;
  let xattrs: Xattr[];
  let stats: EntryStats | null;
  try {
    stats = statAt(paths.from);
    if (stats === null) return failed(errorRecord(errnoError(ENOENT, 'lstat'), 'read', paths.source));
    if (!isSymlink(stats)) return failed({ code: 'ECHANGED', message: 'it is no longer a symlink', operation: 'stat', path: paths.source });
    metadata = metadataFromStats(stats);
    text = readlinkAt(paths.from);
    xattrs = context.settings.dryRun ? [] : sourceXattrs(context.settings, target(paths.from));
  } catch (error) {
    if (error instanceof SourceFailure) return failed(errorRecord(error.cause, 'read', paths.source));
    return failed(errorRecord(error, 'read', paths.source));
  }
  let planned = CREATED;
  if (job.mayExist) {
    let existing: EntryStats | null;
    try {
      existing = existingAt(paths.to);
      if (existing && keepsSymlink(existing, context.settings.overwrite, text, paths.to)) planned = SKIPPED;
      else if (existing) planned = OVERWRITTEN;
      if (existing && context.settings.itemize) planned = { ...planned, changes: symlinkChanges(stats, existing, text, paths, context) };
    } catch (error) {
      return failed(errorRecord(error, 'stat', paths.final));
    }
    if (planned.outcome === 'skipped') {
      const never = context.settings.overwrite === 'never';
      // Kept whatever differs (--ignore-existing): nothing is changed, so nothing is itemized.
      if (context.settings.itemize) planned = { ...planned, changes: never ? UNCHANGED : planned.changes, linkText: pathFromBytes(text) };
      if (never || context.settings.dryRun) return planned;
      try {
        refreshSymlink(existing!, metadata, paths.to, context);
      } catch (error) {
        return failed(errorRecord(error, 'set-metadata', paths.final));
      }
      return planned;
    }
  }
  if (context.settings.itemize) planned = { ...planned, changes: planned.changes ?? ALL_NEW, linkText: pathFromBytes(text) };
  if (context.settings.dryRun) return planned;
  const { staged } = context.settings;
  const temp = staged ? paths.to : sibling(paths.to, writingPathFor(rawName(paths.to), context.pid, false));
  let stage: Operation = 'write';
  try {
    createExclusive(temp, () => symlinkAt(text, temp));
    stage = 'set-metadata';
    const lost = finishSymlink(temp, metadata, ownerFor(metadata, context.settings.owners), xattrs);
    const { backup } = context.settings;
    stage = 'backup';
    if (!staged && backup !== null && planned === OVERWRITTEN && keepReplaced(paths, backup)) planned = { ...planned, backedUp: true };
    stage = 'rename';
    if (!staged) renameAt(temp, paths.to);
    return lost === 0 ? planned : { ...planned, lost };
  } catch (error) {
    if (stage !== 'write') unlinkAtQuietly(temp);
    return failed(errorRecord(error, stage, paths.final));
  }
}

/**
 * A kept symlink (the same target) gets the source's owner and times, as `rsync -a`
 * gives them (and as `cp -a`, which makes it anew): a re-run after a `chown -h` or a
 * `touch -h` at the source leaves no stale attributes. Never followed: lchown, utimensat
 * with AT_SYMLINK_NOFOLLOW. Symlinks hold no user attributes on Linux, so none are synced.
 */
function refreshSymlink(existing: EntryStats, link: Metadata, to: Place, context: BatchContext): void {
  const { owners, modifyWindow } = context.settings;
  if (owners.preserve && (existing.uid !== link.uid || existing.gid !== link.gid)) chownAt(to, link.uid, link.gid);
  if (!sameMtime(link.mtimeNs, existing.mtimeNs, modifyWindow)) setTimes(native(), to, link);
}

/** --itemize-changes: what differs between the source symlink and the entry at its name (worker/itemize.ts). */
function symlinkChanges(source: EntryStats, existing: EntryStats, text: Buffer, paths: JobPaths, { settings }: BatchContext): string {
  const { owners, modifyWindow } = settings;
  const contentDiffers = isSymlink(existing) && !readlinkAt(paths.to).equals(text);
  const xattrs = owners.xattrs ? { source: target(paths.from), destination: target(paths.to) } : null;
  return attributeChanges({ type: S_IFLNK, source, existing, owners, modifyWindow, contentDiffers, xattrs });
}

export function linkSecondName(job: HardLinkJob, paths: Pick<JobPaths, 'final'>, context: BatchContext, lookedAgain = false): JobResult {
  const finalPath = paths.final;
  const { overwrite, dryRun, digest } = context.settings;
  // A dry run made no directories: where none was before, the link would simply be created.
  if (dryRun && !job.mayExist) return CREATED;
  let to: Place;
  try {
    to = context.place.place(job.path);
  } catch (error) {
    // ELOOP or ENOTDIR: a directory on the way was replaced (by a symlink) since it was made.
    return failed(errorRecord(error, 'write', finalPath));
  }
  let firstName: Place;
  try {
    firstName = context.place.other(job.target);
    // Asked again, so both directories are the most recent of the cache: both descriptors stay open.
    to = context.place.place(job.path);
  } catch (error) {
    // In a dry run, the first name's directory may be one the run would make: what is at this name would be replaced.
    if (dryRun) return plannedOver(to, finalPath);
    return failed(errorRecord(error, 'link', finalPath));
  }
  let planned = CREATED;
  if (job.mayExist) {
    try {
      const existing = existingAt(to);
      if (existing && keepsHardLink(existing, overwrite, firstName)) {
        const kept = digest ? { outcome: 'skipped' as const, size: 0, digest: hashFile(to, context.buffer) } : SKIPPED;
        return context.settings.itemize ? { ...kept, changes: UNCHANGED } : kept;
      }
      if (existing) planned = OVERWRITTEN;
      if (existing && context.settings.itemize) planned = { ...planned, changes: secondNameChanges(existing, firstName, context) };
    } catch (error) {
      return failed(errorRecord(error, 'stat', finalPath));
    }
  }
  if (dryRun) return planned;
  const error = planned === CREATED ? linkInPlace(firstName, to, finalPath) : replaceWithLink(firstName, to, finalPath, context.pid);
  // Made at this name since it was looked at (another run of the same planned part, at once): decided again on what is there now.
  if (error?.code === 'EEXIST' && job.mayExist && !lookedAgain) return linkSecondName(job, paths, context, true);
  if (error) return failed(error);
  return digest ? { outcome: planned.outcome, size: 0, digest: hashFile(to, context.buffer) } : planned;
}

/** --itemize-changes: what differs between the entry at a second name and the first name's copy it is linked to (in a dry run, as that copy is now). */
function secondNameChanges(existing: EntryStats, firstName: Place, { settings }: BatchContext): string {
  const first = existingAt(firstName);
  if (first === null) return ALL_NEW;
  return attributeChanges({ type: first.mode & S_IFMT, source: first, existing, owners: settings.owners, modifyWindow: settings.modifyWindow, contentDiffers: false, xattrs: null });
}

function plannedOver(to: Place, finalPath: RawPath): JobResult {
  try {
    return existingAt(to) ? OVERWRITTEN : CREATED;
  } catch (error) {
    return failed(errorRecord(error, 'stat', finalPath));
  }
}

function linkInPlace(firstName: Place, to: Place, finalPath: RawPath): ErrorRecord | null {
  try {
    linkAt(firstName, to);
    return null;
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
}

/** Replaces what is at the name atomically, through a temporary name. */
function replaceWithLink(firstName: Place, to: Place, finalPath: RawPath, pid: number): ErrorRecord | null {
  const temp = sibling(to, tempPathFor(rawName(to), pid));
  try {
    createExclusive(temp, () => linkAt(firstName, temp));
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
  try {
    renameAt(temp, to);
    return null;
  } catch (error) {
    unlinkAtQuietly(temp);
    return errorRecord(error, 'rename', finalPath);
  }
}
