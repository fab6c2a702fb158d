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
import { fsPath, joinRaw, type FsPath, type RawPath } from '../shared/raw-path.js';
import { tempPathFor, unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import { createExclusive, CREATED, failed, hashFile, OVERWRITTEN, SKIPPED, type BatchContext } from './job-result.js';
import { existingAt, keepsHardLink, keepsSymlink } from './up-to-date.js';

export function copySymlink(job: SymlinkJob, context: BatchContext, pid: number): JobResult {
  const sourcePath = joinRaw(context.source, job.path);
  const finalPath = joinRaw(context.destination, job.path);
  let target: Buffer;
  let metadata: Metadata;
  try {
    const stats = fs.lstatSync(fsPath(sourcePath), { bigint: true });
    if (!stats.isSymbolicLink()) return failed({ code: 'ECHANGED', message: 'it is no longer a symlink', operation: 'stat', path: sourcePath });
    metadata = metadataFromStats(stats);
    target = fs.readlinkSync(fsPath(sourcePath), { encoding: 'buffer' });
  } catch (error) {
    return failed(errorRecord(error, 'read', sourcePath));
  }
  const final = fsPath(finalPath);
  let planned = CREATED;
  if (job.mayExist) {
    try {
      const existing = existingAt(final);
      if (existing && keepsSymlink(existing, context.settings.overwrite, target, final)) return SKIPPED;
      if (existing) planned = OVERWRITTEN;
    } catch (error) {
      return failed(errorRecord(error, 'stat', finalPath));
    }
  }
  if (context.settings.dryRun) return planned;
  const { staged } = context.settings;
  const temp = fsPath(writingPathFor(finalPath, pid, staged));
  let stage: Operation = 'write';
  try {
    createExclusive(temp, () => fs.symlinkSync(target, temp));
    stage = 'set-metadata';
    fs.lutimesSync(temp, metadata.atime, metadata.mtime);
    const owner = ownerFor(metadata, context.settings.owners);
    if (owner) fs.lchownSync(temp, owner.uid, owner.gid);
    stage = 'rename';
    if (!staged) fs.renameSync(temp, final);
    return planned;
  } catch (error) {
    if (stage !== 'write') unlinkQuietly(temp);
    return failed(errorRecord(error, stage, finalPath));
  }
}

export function linkSecondName(job: HardLinkJob, context: BatchContext, buffer: Buffer, pid: number): JobResult {
  const finalPath = joinRaw(context.destination, job.path);
  const firstName = fsPath(joinRaw(context.destination, job.target));
  const final = fsPath(finalPath);
  const { overwrite, dryRun, digest } = context.settings;
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
  const error = planned === CREATED ? linkInPlace(firstName, final, finalPath) : replaceWithLink(firstName, finalPath, pid);
  if (error) return failed(error);
  return digest ? { outcome: planned.outcome, size: 0, digest: hashFile(final, buffer) } : planned;
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
function replaceWithLink(firstName: FsPath, finalPath: RawPath, pid: number): ErrorRecord | null {
  const temp = fsPath(tempPathFor(finalPath, pid));
  try {
    createExclusive(temp, () => fs.linkSync(firstName, temp));
  } catch (error) {
    return errorRecord(error, 'link', finalPath);
  }
  try {
    fs.renameSync(temp, fsPath(finalPath));
    return null;
  } catch (error) {
    unlinkQuietly(temp);
    return errorRecord(error, 'rename', finalPath);
  }
}
