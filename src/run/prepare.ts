/**
 * Everything a run opens or creates before the first copy, in one step that
 * turns each failure into a refusal: the destination's missing parents, a
 * check that it can be written (and a probe of how it compares names), its lock (one writing run at a time), the --log and --manifest files, and the
 * staging directory of a first copy. A refusal here undoes what the step had
 * opened, the lock included.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { refusal } from '../shared/errors.js';
import { fsPath, pathText, rawFromString, type RawPath } from '../shared/raw-path.js';
import { DestinationLock } from '../destination/lock.js';
import { probeNameRules, type NameRules } from '../destination/name-rules.js';
import { removeStaleStagings, stage, type OnIgnored, type Staging } from '../destination/staging.js';
import { EntryLog } from './entry-log.js';
import { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { CopyTarget } from './preflight.js';
import type { CopyWarning } from './types.js';

export interface PreparedRun {
  resolved: ResolvedOptions;
  /** Where entries are written: the destination, or the staging directory of a first copy. */
  writtenTo: RawPath;
  staging: Staging | null;
  log: EntryLog | null;
  manifest: Manifest | null;
  /** Held until the run ends (CopyRun.finish); null for a dry run, or where no lock file can be made. */
  lock: DestinationLock | null;
  /** Whether the destination tells apart names that differ only in case or normalization. */
  nameRules: NameRules;
  /** What was found beside the destination and not trusted, as told to onWarning. */
  warnings: CopyWarning[];
  /** With itemize: the destination root's stats before the run's probe moved its times; undefined where there was none. */
  rootBefore?: BigIntStats;
}

export function prepareRun(target: CopyTarget, resolved: ResolvedOptions, onWarning?: (warning: CopyWarning) => void): PreparedRun {
  const warnings: CopyWarning[] = [];
  const warn =
    (code: CopyWarning['code']) =>
    (message: string, path: RawPath): void => {
      const warning = { code, message, path: pathText(path) };
      warnings.push(warning);
      onWarning?.(warning);
    };
  // As rsync: a --link-dest tree that is not there is said, and the copy goes on without it.
  for (const tree of resolved.linkDestMissing) warn('LINK_DEST_MISSING')('a --link-dest directory does not exist; copying without it', rawFromString(tree));
  const writes = !resolved.worker.dryRun;
  const rootBefore = resolved.worker.itemize ? fs.statSync(target.destination, { bigint: true, throwIfNoEntry: false }) : undefined;
  let lock: DestinationLock | null = null;
  // A dry run writes no probe: names are taken as told apart.
  let nameRules: NameRules = { caseInsensitive: false, normalizationInsensitive: false };
  let log: EntryLog | null = null;
  let manifest: Manifest | null = null;
  try {
    if (writes) {
      // The lock file lives in the destination's parent, so missing parents are made first:
      // empty directories, which a run refused here leaves as a concurrent run would make them
      // too. Everything else comes after the lock, so a refused run truncates no --log file
      // and stages nothing. A dry run writes nothing and takes no lock.
      makeParents(target);
      nameRules = probeNameRules(checkWritable(target));
      lock = DestinationLock.take({
        destination: rawFromString(target.realDestination),
        shownDestination: target.destination,
        onTakeOver: warn('STALE_LOCK'),
      });
    }
    log = resolved.log === undefined ? null : EntryLog.open(resolved.log);
    manifest = resolved.manifest === undefined ? null : Manifest.open(resolved.manifest, { source: target.source, destination: target.destination });
    const destination = rawFromString(target.destination);
    // The options looked before the lock: a run that held it may have put its copy in place since.
    if (resolved.worker.staged && isDirectory(destination)) {
      resolved = { ...resolved, worker: { ...resolved.worker, staged: false } };
    }
    const staging = resolved.worker.staged ? stageFirstCopy(destination, warn('FOREIGN_STAGING')) : null;
    // A re-run: what dead runs staged beside the destination will never be renamed into place.
    if (writes && !staging) removeStaleStagings(destination, warn('FOREIGN_STAGING'));
    // What a killed run left may be incomplete: only a check of every entry can tell, whatever the policy.
    const { overwrite } = resolved.worker;
    if (staging?.adopted && (overwrite === 'never' || overwrite === 'older')) {
      resolved = { ...resolved, worker: { ...resolved.worker, overwrite: 'changed' } };
    }
    return { resolved, writtenTo: staging?.path ?? destination, staging, log, manifest, lock, nameRules, warnings, ...(rootBefore && { rootBefore }) };
  } catch (error) {
    log?.close();
    manifest?.discard();
    lock?.release();
    throw error;
  }
}

function isDirectory(path: RawPath): boolean {
  try {
    return fs.statSync(fsPath(path)).isDirectory();
  } catch {
    return false;
  }
}

function makeParents(target: CopyTarget): void {
  const parent = path.dirname(target.destination);
  if (target.existingAncestor === target.destination || target.existingAncestor === parent) return;
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot create the destination directory', parent, error);
  }
}

/**
 * Where the copy's entries go must take them: the destination directory, or
 * the directory that will hold a new destination or a copied file. Found now,
 * it is one refusal, not a failure for every entry.
 */
/** Returns that directory, where the copy's names will be compared. */
function checkWritable(target: CopyTarget): string {
  const parent = path.dirname(target.destination);
  // A bare name's directory is the working directory: '.' would say little.
  const where = target.kind === 'dir' && isDirectory(rawFromString(target.destination)) ? target.destination : parent === '.' ? process.cwd() : parent;
  try {
    fs.accessSync(where, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw refusal('DESTINATION_UNWRITABLE', 'cannot write into the destination', where, error);
  }
  return where;
}

function stageFirstCopy(destination: RawPath, onIgnored: OnIgnored): Staging {
  try {
    return stage(destination, onIgnored);
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot prepare the destination', path.dirname(destination), error);
  }
}
