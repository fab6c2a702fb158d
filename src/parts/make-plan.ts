/**
 * makePlan(): the first step of a planned copy. One walk of the source, with a
 * copy's filters, after the refusals a copy makes (run/copy-folder.ts), so that
 * no part ever needs to refuse; then the entries split into parts
 * (partition.ts) and the plan directory written (format.ts), plan.json last: a
 * plan directory without it is no plan. The destination's root is made and its
 * lock taken for the plan (destination/plan-lock.ts) until the plan's finalize.
 * Nothing else is copied.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DestinationLock } from '../destination/lock.js';
import { releasePlanLock } from '../destination/plan-lock.js';
import { refuseOrResolve, type CheckedCopy } from '../run/copy-folder.js';
import { checkArguments } from '../run/options.js';
import { isInside, realPathOf } from '../run/preflight.js';
import type { CopyFailure, CopyOptions, CopyWarning } from '../run/types.js';
import { FoldercopyError, refusal } from '../shared/errors.js';
import { pathText, rawFromString, type RawPath } from '../shared/raw-path.js';
import { directoryLine, entryLine, newPlanId, planFiles, PLAN_FORMAT, PLAN_VERSION, writeAtomically, type PlanHeader, type PlannedEntry, type PlanTotals } from './format.js';
import { DEFAULT_MAX_PART_FILES, MAX_PARTS } from './limits.js';
import { listSource, type SourceListing } from './list-source.js';
import { splitIntoParts } from './split.js';
import { digestOf } from './read-plan.js';


export interface MakePlanOptions extends CopyOptions {
  /** The plan directory: made, or empty. */
  plan: string;
  /** How many parts (scheduler tasks), 1 to MAX_PARTS. */
  parts: number;
  /** The most files a part may hold (default DEFAULT_MAX_PART_FILES). */
  maxPartFiles?: number;
}

export interface PlanSummary {
  /** The plan directory, absolute. */
  plan: string;
  id: string;
  parts: number;
  source: string;
  destination: string;
  totals: PlanTotals;
  /** What could not be listed or stat'ed: not in the plan. */
  failures: CopyFailure[];
  /** A lock no live run held, taken over (as onWarning was told). */
  warnings: CopyWarning[];
  durationMs: number;
}

// What a part's copy cannot do as its plan's part: each writes or decides outside the entries a part copies.
const NOT_PLANNED = ['dryRun', 'snapshot', 'keep', 'manifest', 'log', 'linkDest', 'itemize'] as const;

/** Plans the copy of `source` into `destination` in `options.parts` parts; writes the plan directory `options.plan`. */
export async function makePlan(source: string, destination: string | undefined, options: MakePlanOptions): Promise<PlanSummary> {
  const startedAt = performance.now();
  const { plan, parts, maxPartFiles = DEFAULT_MAX_PART_FILES, ...copyOptions } = (options ?? {}) as MakePlanOptions;
  checkArguments(source, destination, copyOptions);
  checkPlanOptions(plan, parts, maxPartFiles);
  const unplanned = NOT_PLANNED.find((name) => copyOptions[name] !== undefined && copyOptions[name] !== false);
  if (unplanned) throw new FoldercopyError('USAGE', `the ${unplanned} option cannot be planned: copy without a plan to use it`);
  const checked = await refuseOrResolve(source, destination, copyOptions);
  const { target } = checked;
  if (target.kind !== 'dir') throw new FoldercopyError('USAGE', `a planned copy needs a source directory, not a file: ${target.source}`, target.source);
  const directory = planDirectory(plan, checked);
  const id = newPlanId();
  const lockedDestination = rawFromString(target.realDestination);
  const warnings: CopyWarning[] = [];
  takeLock(checked, { id, directory }, (message, at) => {
    const warning: CopyWarning = { code: 'STALE_LOCK', message, path: pathText(at) };
    warnings.push(warning);
    options.onWarning?.(warning);
  });
  try {
    const listing = await listSource(rawFromString(target.source), { filter: checked.filter, selection: checked.selection, oneFileSystem: checked.resolved.oneFileSystem });
    const split = splitIntoParts(listing, parts, maxPartFiles);
    makeRoot(target.destination);
    const header: Omit<PlanHeader, 'listing'> = {
      format: PLAN_FORMAT,
      version: PLAN_VERSION,
      id,
      created: new Date().toISOString(),
      source: path.resolve(target.source),
      destination: path.resolve(target.destination),
      parts,
      options: plannedOptions(copyOptions, checked),
      totals: totalsOf(listing),
      // Absolute, as the roots: the check may run in another directory.
      failures: listing.failures.map((record) => ({ path: path.resolve(pathText(record.path)), code: record.code })),
    };
    writePlan(directory, header, listing, split);
    const failures = listing.failures.map((record): CopyFailure => ({ ...record, path: pathText(record.path) }));
    for (const failure of failures) options.onFailure?.(failure);
    return { plan: directory, id, parts, source: target.source, destination: target.destination, totals: header.totals, failures, warnings, durationMs: Math.round(performance.now() - startedAt) };
  } catch (error) {
    releasePlanLock(lockedDestination, id);
    throw error;
  }
}

function checkPlanOptions(plan: unknown, parts: unknown, maxPartFiles: unknown): void {
  if (typeof plan !== 'string' || plan === '') throw new FoldercopyError('USAGE', `the plan option must be a directory (a string), got ${JSON.stringify(plan)}`);
  if (!Number.isInteger(parts) || (parts as number) < 1 || (parts as number) > MAX_PARTS) {
    throw new FoldercopyError('USAGE', `the parts option must be a whole number from 1 to ${MAX_PARTS}, got ${String(parts)}`);
  }
  if (!Number.isInteger(maxPartFiles) || (maxPartFiles as number) < 1) {
    throw new FoldercopyError('USAGE', `the maxPartFiles option must be a whole number, 1 or more, got ${String(maxPartFiles)}`);
  }
}

/** The plan directory, absolute: new or empty, and outside the source (it would be planned) and the destination (a mirror would delete it). */
function planDirectory(plan: string, { target }: CheckedCopy): string {
  const directory = path.resolve(plan);
  const real = realPathOf(directory);
  for (const [root, side] of [
    [target.realSource, 'source'],
    [target.realDestination, 'destination'],
  ] as const) {
    if (real === root || isInside(real, root)) throw new FoldercopyError('USAGE', `the plan directory must be outside the ${side}: ${plan}`, plan);
  }
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return directory;
    throw refusal('PLAN_INVALID', 'cannot use the plan directory', plan, error);
  }
  if (names.length > 0) throw new FoldercopyError('PLAN_EXISTS', `the plan directory exists and is not empty: ${plan}`, plan);
  return directory;
}

/** The destination's parents, then its lock in the plan's name: held until the plan's finalize. */
function takeLock({ target }: CheckedCopy, plan: { id: string; directory: string }, onTakeOver: (message: string, at: RawPath) => void): void {
  try {
    fs.mkdirSync(path.dirname(target.destination), { recursive: true });
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot create the destination directory', path.dirname(target.destination), error);
  }
  DestinationLock.takeForPlan({
    destination: rawFromString(target.realDestination),
    shownDestination: target.destination,
    plan,
    onTakeOver,
  });
}

/** Made now, so that parts on other hosts find it; its mode, owner and times are the finalize's (as a run's staging root, 700 until then). */
function makeRoot(destination: string): void {
  try {
    fs.mkdirSync(destination, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw refusal('DESTINATION_INVALID', 'cannot create the destination directory', destination, error);
  }
}

function totalsOf({ directories, entries }: SourceListing): PlanTotals {
  const totals: PlanTotals = { files: 0, bytes: 0, directories: directories.length, symlinks: 0, other: 0 };
  for (const entry of entries) {
    if (entry.type === 'file') {
      totals.files++;
      totals.bytes += entry.size;
    } else if (entry.type === 'symlink') totals.symlinks++;
    else totals.other++;
  }
  return totals;
}

/** The options that decide what is copied and how, resolved, under the library's names: the parts copy by them, the check lists by them, the finalize deletes by them. */
function plannedOptions(options: CopyOptions, { resolved }: CheckedCopy): Record<string, unknown> {
  const { overwrite, modifyWindow, backup } = resolved.worker;
  return {
    exclude: options.exclude ?? [],
    include: options.include ?? [],
    gitignore: options.gitignore === true,
    ...(options.files !== undefined && { files: options.files }),
    oneFileSystem: resolved.oneFileSystem,
    overwrite,
    checksum: overwrite === 'checksum',
    modifyWindow,
    xattrs: options.xattrs !== false,
    verify: options.verify === true,
    delete: resolved.delete,
    ...(resolved.maxDelete !== undefined && { maxDelete: resolved.maxDelete }),
    // Resolved: the backup directory absolute (parts and the finalize may run elsewhere), the suffix the default or given.
    ...(backup !== null && { backup: true, ...(backup.dir !== null && { backupDir: pathText(backup.dir) }), suffix: pathText(backup.suffix) }),
    // What every copy does: said for a reader of the plan.
    hardLinks: true,
    sparse: true,
    links: 'as-links',
  };
}

/** The part files, then directories.ndjson, then plan.json with the digest of each and of them all. */
function writePlan(directory: string, header: Omit<PlanHeader, 'listing'>, listing: SourceListing, parts: PlannedEntry[][]): void {
  try {
    fs.mkdirSync(planFiles.partsDirectory(directory), { recursive: true });
    fs.mkdirSync(planFiles.recordsDirectory(directory), { recursive: true });
    writeFiles(directory, header, listing, parts);
  } catch (error) {
    throw refusal('PLAN_INVALID', 'cannot write the plan', directory, error);
  }
}

function writeFiles(directory: string, header: Omit<PlanHeader, 'listing'>, listing: SourceListing, parts: PlannedEntry[][]): void {
  const digest = crypto.createHash('sha256');
  const partDigests = parts.map((entries, k) => {
    const text = entries.map(entryLine).join('');
    digest.update(text);
    writeAtomically(planFiles.part(directory, k), text);
    return digestOf(text);
  });
  const directories = listing.directories.map(directoryLine).join('');
  digest.update(directories);
  writeAtomically(planFiles.directories(directory), directories);
  const complete: PlanHeader = { ...header, listing: digest.digest('hex'), digests: { parts: partDigests, directories: digestOf(directories) } };
  writeAtomically(planFiles.header(directory), `${JSON.stringify(complete, null, 2)}\n`);
}
