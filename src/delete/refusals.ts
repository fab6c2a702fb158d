/**
 * --delete's refusals, all before anything is written: options that cannot go
 * with it, a source it cannot mirror, and the guard against the cp habit
 * `foldercopy photos backups/ --delete`, which would mirror photos' contents onto
 * backups/ and delete every other backup there. Unless maxDelete is given, a run
 * is refused when the destination's top level holds entries of which none is in
 * the source, or more than half of them are not (checkDeleteTarget); the pass
 * (pass.ts) weighs the same rule again after the copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';
import { fsPath, pathText, rawFromBytes, rawFromString, type RawPath } from '../shared/raw-path.js';
import { isOurName } from '../shared/names-on-disk.js';
import type { TreeFilter } from '../source/filter.js';
import { looksLikeEarlierCopy } from '../destination/overwrite-guard.js';
import type { ResolvedOptions } from '../run/options.js';
import type { CopyTarget } from '../run/preflight.js';

/** maxDelete (a number: checkArguments saw to that) must be a count, and only goes with delete. */
export function checkMaxDelete(maxDelete: number | undefined, remove: boolean): void {
  if (maxDelete === undefined) return;
  if (!Number.isInteger(maxDelete) || maxDelete < 0) throw new FoldercopyError('USAGE', `the maxDelete option must be a whole number, got ${String(maxDelete)}`);
  if (!remove) throw new FoldercopyError('USAGE', 'the maxDelete option needs the delete option');
}

/**
 * Deleting what the source lacks is only safe when the source is a whole directory with something in it.
 * `fileList`: the files option was given (and passed its own checks), which picks entries; mirroring would delete the rest.
 */
export function checkMirrorable(target: CopyTarget, fileList: boolean): void {
  if (fileList) throw new FoldercopyError('USAGE', 'the delete option mirrors a whole tree: it cannot be combined with the files option');
  if (target.kind !== 'dir') throw new FoldercopyError('USAGE', `the delete option needs a source directory, not a file: ${target.source}`, target.source);
  if (fs.readdirSync(target.source).length === 0) {
    throw new FoldercopyError(
      'DELETE_REFUSED',
      `refusing the delete option: the source is empty, so everything at the destination would be deleted: ${target.source}`,
      target.source,
    );
  }
}

/** The destination's top level against the source's: the names it holds (ours and excluded ones left out), and those the source lacks. */
interface TopLevelComparison {
  names: RawPath[];
  extraneous: RawPath[];
}

/** Undefined when the destination is not a directory (nothing there yet, or a file). */
function compareTopLevel(source: RawPath, destination: RawPath, filter: TreeFilter | null): TopLevelComparison | undefined {
  let atDestination: fs.Dirent<Buffer>[];
  let inSource: Set<RawPath>;
  try {
    atDestination = fs.readdirSync(fsPath(destination), { encoding: 'buffer', withFileTypes: true });
    inSource = new Set(fs.readdirSync(fsPath(source), { encoding: 'buffer' }).map(rawFromBytes));
  } catch {
    return undefined;
  }
  const names: RawPath[] = [];
  const extraneous: RawPath[] = [];
  for (const dirent of atDestination) {
    const name = rawFromBytes(dirent.name);
    if (isOurName(name) || filter?.excludes(name, dirent.isDirectory())) continue;
    names.push(name);
    if (!inSource.has(name)) extraneous.push(name);
  }
  return { names, extraneous };
}

/**
 * The cp habit `foldercopy photos backups/`: whether a copy of the directory `source` puts its contents beside
 * entries `destination` holds, none of which the source has (so the user may have meant `backups/photos`).
 */
export function contentsBesideOthers(source: string, destination: string): boolean {
  try {
    if (!fs.statSync(source).isDirectory()) return false;
  } catch {
    return false;
  }
  const top = compareTopLevel(rawFromString(source), rawFromString(destination), null);
  return top !== undefined && top.names.length > 0 && top.extraneous.length === top.names.length;
}

/**
 * Why `deletions` of the `existing` entries must not go, or undefined: past maxDelete when it is given,
 * else past the guard's rule (tooMuchToDelete).
 */
export function deletionLimit(deletions: number, existing: number, maxDelete: number | undefined): string | undefined {
  if (maxDelete !== undefined) {
    return deletions > maxDelete ? `${deletions} entries would be deleted, more than the maxDelete option allows (${maxDelete})` : undefined;
  }
  if (!tooMuchToDelete(existing, deletions)) return undefined;
  return `${deletions} of the ${existing} entries at the destination would be deleted, more than half; give the maxDelete option to allow it`;
}

/** The guard's rule: something there, and none of it, or more than half of it, would stay. */
function tooMuchToDelete(existing: number, deletions: number): boolean {
  return existing > 0 && deletions > 0 && (deletions === existing || deletions * 2 > existing);
}

export interface DeleteTargetCheck {
  target: CopyTarget;
  resolved: ResolvedOptions;
  filter: TreeFilter | null;
  /** The source and destination as the user named them. */
  shown: { source: string; destination: string };
}

/** With delete and no maxDelete, before anything is copied: refuses a destination whose top level holds nothing the source has, or mostly what it lacks. */
export function checkDeleteTarget({ target, resolved, filter, shown }: DeleteTargetCheck): void {
  if (!resolved.delete || resolved.maxDelete !== undefined || target.kind !== 'dir') return;
  const source = rawFromString(target.source);
  const destination = rawFromString(target.destination);
  const top = compareTopLevel(source, destination, filter);
  if (!top || !tooMuchToDelete(top.names.length, top.extraneous.length)) return;
  const { names, extraneous } = top;
  const listed = extraneous.slice(0, 3).map(pathText).join(', ') + (extraneous.length > 3 ? ', …' : '');
  const deleting = `refusing the delete option: it would delete ${extraneous.length} of the ${names.length} ${names.length === 1 ? 'entry' : 'entries'} at the top of ${shown.destination} (${listed})`;
  // A mirror whose source lost most of its entries since: the advice is to allow it, not to name another folder.
  if (looksLikeEarlierCopy(source, destination, { filter, modifyWindow: resolved.worker.modifyWindow })) {
    throw new FoldercopyError(
      'DELETE_REFUSED',
      `${deleting}, which the source no longer has; ${shown.destination} looks like an earlier copy of ${shown.source}: ` +
        `to delete them, allow it with the maxDelete option set to ${extraneous.length}`,
      shown.destination,
    );
  }
  const which = extraneous.length === names.length ? `none of which is in the source` : `which the source does not have`;
  const itself = path.join(shown.destination, path.basename(shown.source));
  throw new FoldercopyError(
    'DELETE_REFUSED',
    `${deleting}, ${which}; to copy the folder itself, use ${itself}; to mirror anyway, give the maxDelete option`,
    shown.destination,
  );
}
