/**
 * --backup, --backup-dir and --suffix resolved and checked, as rsync reads them:
 * a backup directory implies --backup and is relative to the destination (to
 * the directory holding it, for a single file); the suffix is '~' beside the
 * file and empty inside a backup directory.
 */
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';
import type { BackupSettings } from '../shared/keep-aside.js';
import { rawFromString, type RawPath } from '../shared/raw-path.js';
import { isInside, type CopyTarget } from './preflight.js';
import type { CopyOptions } from './types.js';

export interface ResolvedBackup {
  settings: BackupSettings | null;
  /** A backup directory inside the destination, relative to it: --delete never removes it. */
  keptFromDelete: RawPath | null;
}

export function resolveBackup(options: CopyOptions, target: CopyTarget): ResolvedBackup {
  const { backupDir, suffix } = options;
  if (options.backup !== true && backupDir === undefined) {
    if (suffix !== undefined) throw new FoldercopyError('USAGE', 'the suffix option needs the backup option');
    return { settings: null, keptFromDelete: null };
  }
  if (suffix?.includes('/')) throw new FoldercopyError('USAGE', `the suffix option must be part of a name, without a slash, got ${JSON.stringify(suffix)}`);
  if (backupDir === undefined) {
    if (suffix === '') throw new FoldercopyError('USAGE', 'the suffix option is empty: without the backupDir option, a backup would take the name of the file it keeps');
    return { settings: { suffix: rawFromString(suffix ?? '~'), dir: null }, keptFromDelete: null };
  }
  if (backupDir === '') throw new FoldercopyError('USAGE', 'the backupDir option is empty');
  const destinationDirectory = path.resolve(target.kind === 'dir' ? target.destination : path.dirname(target.destination));
  const dir = path.resolve(destinationDirectory, backupDir);
  const source = path.resolve(target.source);
  if (dir === source || isInside(dir, source)) throw new FoldercopyError('USAGE', `the backupDir option must be outside the source: ${backupDir}`, backupDir);
  if (dir === destinationDirectory) throw new FoldercopyError('USAGE', `the backupDir option must not be the destination itself: ${backupDir}`, backupDir);
  const keptFromDelete = isInside(dir, destinationDirectory) ? rawFromString(path.relative(destinationDirectory, dir)) : null;
  return { settings: { suffix: rawFromString(suffix ?? ''), dir: rawFromString(dir) }, keptFromDelete };
}
