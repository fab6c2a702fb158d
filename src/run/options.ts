/**
 * Option defaults and validation shared by the API and the CLI: everything a run
 * needs, checked before anything is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';
import { onNetworkFileSystem } from '../shared/file-systems.js';
import type { OverwritePolicy, OwnerPolicy, WorkerSettings } from '../shared/jobs.js';
import { checkMaxDelete, checkMirrorable } from '../delete/refusals.js';
import { resolveLinkDest } from './link-dest.js';
import { isInside, lookAgain, realPathOf, type CopyTarget } from './preflight.js';
import type { CopyOptions } from './types.js';
import { resolveBackup } from './backup-options.js';
import { checkShard } from '../source/shard-option.js';
import type { RawPath } from '../shared/raw-path.js';

// Far beyond any benefit; a typo such as -j 1000 should not fork a thousand processes.
export const MAX_JOBS = 64;

const OVERWRITE_POLICIES: readonly OverwritePolicy[] = ['changed', 'checksum', 'never', 'older', 'always'];

/** CopyOptions resolved: defaults applied, validated, and the settings every batch carries to its worker. */
export interface ResolvedOptions {
  /** Worker processes (the jobs option, or its default). */
  workers: number;
  worker: WorkerSettings;
  delete: boolean;
  maxDelete: number | undefined;
  log: string | undefined;
  manifest: string | undefined;
  /** Mount points below the source are made, not entered. */
  oneFileSystem: boolean;
  /** A backup directory inside the destination, relative to it: --delete never removes it. */
  keptFromDelete: RawPath | null;
  /** linkDest trees given that are not there: a warning each (prepare.ts). */
  linkDestMissing: string[];
}

// Where the copy goes over a network, workers spend their time waiting on round trips, so more of them than cores pay.
const NETWORK_WORKERS = 8;

/** The available CPUs, or NETWORK_WORKERS where the destination is on a network or FUSE file system. */
function defaultWorkers(destinationDirectory: string): number {
  const cpus = os.availableParallelism();
  return onNetworkFileSystem(destinationDirectory) ? Math.max(cpus, NETWORK_WORKERS) : cpus;
}

function resolveWorkers(jobs: number | undefined, destinationDirectory: string): number {
  if (jobs === undefined) return defaultWorkers(destinationDirectory);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    throw new FoldercopyError('USAGE', `the jobs option must be a whole number from 1 to ${MAX_JOBS}, got ${shown(jobs)}`);
  }
  return jobs;
}

const BOOLEANS = ['xattrs', 'gitignore', 'dryRun', 'verify', 'delete', 'oneFileSystem', 'backup', 'snapshot', 'itemize'] as const;
const CALLBACKS = ['onProgress', 'onFailure', 'onSkip', 'onEntry'] as const;
const STRINGS = ['manifest', 'log', 'backupDir', 'suffix'] as const;
const STRING_LISTS = ['exclude', 'include', 'files', 'linkDest'] as const;

/**
 * The arguments' types, checked at run time: a caller without TypeScript gets
 * a USAGE refusal naming the option, not a string taken for a list of patterns
 * (`exclude: '*.log'` would match every name) or a TypeError from deep inside.
 */
export function checkArguments(source: unknown, destination: unknown, options: unknown): void {
  if (typeof source !== 'string') throw new FoldercopyError('USAGE', `the source must be a path (a string), got ${shown(source)}`);
  if (destination !== undefined && typeof destination !== 'string') {
    throw new FoldercopyError('USAGE', `the destination must be a path (a string) or undefined, got ${shown(destination)}`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new FoldercopyError('USAGE', `the options must be an object, got ${shown(options)}`);
  }
  const given = options as Record<string, unknown>;
  const check = (name: string, ok: (value: unknown) => boolean, what: string): void => {
    const value = given[name];
    if (value !== undefined && !ok(value)) throw new FoldercopyError('USAGE', `the ${name} option must be ${what}, got ${shown(value)}`);
  };
  for (const name of BOOLEANS) check(name, (value) => typeof value === 'boolean', 'true or false');
  for (const name of CALLBACKS) check(name, (value) => typeof value === 'function', 'a function');
  for (const name of STRINGS) check(name, (value) => typeof value === 'string', 'a file name (a string)');
  for (const name of STRING_LISTS) check(name, (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'), 'an array of strings');
  check('signal', (value) => value instanceof AbortSignal, 'an AbortSignal');
  check('jobs', (value) => typeof value === 'number', 'a number');
  check('maxDelete', (value) => typeof value === 'number', 'a number');
  check('modifyWindow', (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0, 'a whole number of seconds, 0 or more');
  check('keep', (value) => typeof value === 'number', 'a number');
  if (given.shard !== undefined) checkShard(given.shard);
}

/** A value as a message shows it: strings quoted, so '' and '5' read as strings. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(shown).join(', ')}]`;
  if (typeof value === 'function') return 'a function';
  return value !== null && typeof value === 'object' ? 'an object' : String(value);
}

export function resolveOptions(options: CopyOptions, target: CopyTarget): ResolvedOptions {
  const { xattrs = true } = options;
  const overwrite = options.overwrite ?? 'changed';
  if (!OVERWRITE_POLICIES.includes(overwrite)) {
    throw new FoldercopyError('USAGE', `the overwrite option must be one of ${OVERWRITE_POLICIES.map(shown).join(', ')}, got ${shown(overwrite)}`);
  }
  const dryRun = options.dryRun === true;
  const remove = options.delete === true;
  const { maxDelete } = options;
  checkMaxDelete(maxDelete, remove);
  if (options.files !== undefined) checkFileList(target);
  if (remove) checkMirrorable(target, options.files !== undefined);
  if (options.manifest !== undefined && dryRun) throw new FoldercopyError('USAGE', 'a dry run writes no manifest: nothing is copied to hash');
  const log = options.log === undefined ? undefined : outputFile(options.log, 'log', target);
  const manifest = options.manifest === undefined ? undefined : outputFile(options.manifest, 'manifest', target);
  const backup = resolveBackup(options, target);
  const linkDest = resolveLinkDest(options.linkDest, target);
  return {
    workers: resolveWorkers(options.jobs, target.existingAncestor),
    worker: {
      overwrite,
      modifyWindow: options.modifyWindow ?? 0,
      dryRun,
      verify: options.verify === true && !dryRun,
      digest: manifest !== undefined,
      staged: target.kind === 'dir' && !dryRun && fs.lstatSync(target.destination, { throwIfNoEntry: false }) === undefined,
      owners: ownerPolicy(target.existingAncestor, xattrs),
      backup: backup.settings,
      ...(linkDest.roots && { linkDest: linkDest.roots }),
      // Only where someone reads the events: the comparisons cost the workers calls per entry.
      ...(options.itemize === true && (options.onEntry !== undefined || log !== undefined) && { itemize: true as const }),
    },
    delete: remove,
    maxDelete,
    log,
    manifest,
    oneFileSystem: options.oneFileSystem === true,
    keptFromDelete: backup.keptFromDelete,
    linkDestMissing: linkDest.missing,
  };
}

/** Only root can give files away, so only root keeps owners, as `cp -a` does. */
function ownerPolicy(existingAncestor: string, xattrs: boolean): OwnerPolicy {
  const uid = process.geteuid?.();
  const gid = process.getegid?.();
  if (uid !== 0 || gid === undefined) return { preserve: false, uid: -1, gid: -1, groupInherited: false, xattrs };
  // New entries under a set-group-ID directory take its group, not ours.
  const groupInherited = (lookAgain(existingAncestor, () => fs.statSync(existingAncestor)).mode & 0o2000) !== 0;
  return { preserve: true, uid, gid, groupInherited, xattrs };
}

/** A file list picks entries of a source directory (the delete option refuses it: checkMirrorable). */
function checkFileList(target: CopyTarget): void {
  if (target.kind !== 'dir') throw new FoldercopyError('USAGE', `a file list needs a source directory, not a file: ${target.source}`, target.source);
}

/** A log or manifest inside the source would change it, and inside the destination it would be copied over or deleted. */
function outputFile(file: string, what: string, target: CopyTarget): string {
  if (file === '') throw new FoldercopyError('USAGE', `the ${what} file name is empty`);
  const resolved = path.resolve(file);
  if (!fs.statSync(path.dirname(resolved), { throwIfNoEntry: false })?.isDirectory()) {
    throw new FoldercopyError('USAGE', `the ${what} file's directory does not exist: ${file}`, file);
  }
  // The manifest is renamed into place at the end: over a device such as /dev/full, it would replace the device.
  const existing = fs.statSync(resolved, { throwIfNoEntry: false });
  if (what === 'manifest' && existing !== undefined && !existing.isFile()) {
    throw new FoldercopyError('USAGE', `the manifest must be a regular file or a new name: it is written whole and renamed into place: ${file}`, file);
  }
  // Through symlinks too: a link to the source is the source.
  const real = realPathOf(resolved);
  for (const [root, side] of [
    [target.realSource, 'source'],
    [target.realDestination, 'destination'],
  ] as const) {
    if (real === root || isInside(real, root)) throw new FoldercopyError('USAGE', `the ${what} file must be outside the ${side}: ${file}`, file);
  }
  return resolved;
}
