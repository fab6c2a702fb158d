/**
 * Copies the two kinds of link job: a symlink (its target text, times and
 * owner), and a second name of a hard-linked file, linked to the copy of its
 * first name. As with files, nothing stands at a final name half made.
 */
import fs from 'node:fs';
import { errorRecord, type ErrorRecord, type Operation } from '../shared/errors.js';
import type { HardLinkJob, SymlinkJob } from '../shared/jobs.js';
import { metadataFromStats, ownerFor, type Metadata } from '../shared/metadata.js';
import type { JobResult } from '../shared/protocol.js';
import { fsPath, type FsPath, type RawPath } from '../shared/raw-path.js';
import { tempPathFor, unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import type { Xattr } from '../shared/xattrs.js';
import { createExclusive, CREATED, failed, hashFile, OVERWRITTEN, SKIPPED, SourceFailure, type BatchContext, type JobPaths } from './job-result.js';
import { finishSymlink, sourceXattrs } from './metadata-copy.js';
import { existingAt, keepsHardLink, keepsSymlink } from './up-to-date.js';

export function copySymlink(job: SymlinkJob, paths: JobPaths, context: BatchContext, pid: number): JobResult {
  let target: Buffer;
  let metadata: Metadata;
  let xattrs: Xattr[];
  try {
    const stats = fs.lstatSync(paths.sourceFs, { bigint: true });
    if (!stats.isSymbolicLink()) return failed({ code: 'ECHANGED', message: 'it is no longer a symlink', operation: 'stat', path: paths.source });
    metadata = metadataFromStats(stats);
    target = fs.readlinkSync(paths.sourceFs, { encoding: 'buffer' });
    xattrs = context.settings.dryRun ? [] : sourceXattrs(context.settings, paths.sourceFs);
  } catch (error) {
    if (error instanceof SourceFailure) return failed(errorRecord(error.cause, 'read', paths.source));
    return failed(errorRecord(error, 'read', paths.source));
  }
  const final = fsPath(paths.name);
  let planned = CREATED;
  if (job.mayExist) {
    try {
      const existing = existingAt(final);
      if (existing && keepsSymlink(existing, context.settings.overwrite, target, final)) return SKIPPED;
      if (existing) planned = OVERWRITTEN;
    } catch (error) {
      return failed(errorRecord(error, 'stat', paths.final));
    }
  }
  if (context.settings.dryRun) return planned;
  const { staged } = context.settings;
  const temp = fsPath(writingPathFor(paths.name, pid, staged));
  let stage: Operation = 'write';
  try {
    createExclusive(temp, () => fs.symlinkSync(target, temp));
    stage = 'set-metadata';
    const lost = finishSymlink(temp, metadata, ownerFor(metadata, context.settings.owners), xattrs);
    stage = 'rename';
    if (!staged) fs.renameSync(temp, final);
    return lost === 0 ? planned : { ...planned, lost };
  } catch (error) {
    if (stage !== 'write') unlinkQuietly(temp);
    return failed(errorRecord(error, stage, paths.final));
  }
}

export function linkSecondName(job: HardLinkJob, paths: Pick<JobPaths, 'final' | 'name'>, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  const finalPath = paths.final;
  const final = fsPath(paths.name);
  const { overwrite, dryRun, digest } = context.settings;
  // A dry run made no directories: where none was before, the link would simply be created.
  if (dryRun && !job.mayExist) return CREATED;
  let firstName: FsPath;
  try {
    firstName = context.place.entryPath(job.target);
  } catch (error) {
    // In a dry run, the first name's directory may be one the run would make: what is at this name would be replaced.
    if (dryRun) return plannedOver(final, finalPath);
    return failed(errorRecord(error, 'link', finalPath));
  }
  let planned = CREATED;
  if (job.mayExist) {
    try {
      const existing = existingAt(final);
      if (existing && keepsHardLink(existing, overwrite, firstName)) {
        return digest ? { outcome: 'skipped', size: 0, digest: hashFile(final, buffer) } : SKIPPED;
      }
      if (existing) planned = OVERWRITTEN;
    } catch (error) {
      return failed(errorRecord(error, 'stat', finalPath));
    }
  }
  if (dryRun) return planned;
  const error = planned === CREATED ? linkInPlace(firstName, final, finalPath) : replaceWithLink(firstName, paths, pid);
  if (error) return failed(error);
  return digest ? { outcome: planned.outcome, size: 0, digest: hashFile(final, buffer) } : planned;
}

function plannedOver(final: FsPath, finalPath: RawPath): JobResult {
  try {
    return existingAt(final) ? OVERWRITTEN : CREATED;
  } catch (error) {
    return failed(errorRecord(error, 'stat', finalPath));
  }
}

function linkInPlace(firstName: FsPath, final: FsPath, finalPath: RawPath): ErrorRecord | null {
  try {
    fs.linkSync(firstName, final);
    return null;
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
}

/** Replaces what is at the name atomically, through a temporary name. */
function replaceWithLink(firstName: FsPath, paths: Pick<JobPaths, 'final' | 'name'>, pid: number): ErrorRecord | null {
  const temp = fsPath(tempPathFor(paths.name, pid));
  try {
    createExclusive(temp, () => fs.linkSync(firstName, temp));
  } catch (error) {
    return errorRecord(error, 'link', paths.final);
  }
  try {
    fs.renameSync(temp, fsPath(paths.name));
    return null;
  } catch (error) {
    unlinkQuietly(temp);
    return errorRecord(error, 'rename', paths.final);
  }
}
