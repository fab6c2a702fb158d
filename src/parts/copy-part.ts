/**
 * copyPart(): one part of a planned copy, as one task of a scheduler runs it.
 * No walk: the part's entries come from the plan (part-listings.ts) and go
 * through the same run as a copy's (run/copy-run.ts): temporary name and
 * rename, the quick check, hard links among the part's names, failures in the
 * summary. Its directories are made as needed and their metadata left to the
 * plan's finalize. Every run of the plan holds the destination's lock in its
 * plan-shared form (destination/plan-lock.ts), so a part run twice, or twice
 * at once, is harmless, and an ordinary run cannot write there meanwhile. At
 * the end, the part's record (part-record.ts) says what became of each entry.
 */
import path from 'node:path';
import { DestinationLock } from '../destination/lock.js';
import { CopyRun } from '../run/copy-run.js';
import { EntryLog } from '../run/entry-log.js';
import { checkArguments, resolveOptions, type ResolvedOptions } from '../run/options.js';
import { preflight, type CopyTarget } from '../run/preflight.js';
import type { PreparedRun } from '../run/prepare.js';
import type { CopyOptions, CopySummary, CopyWarning } from '../run/types.js';
import { errorRecord, FoldercopyError } from '../shared/errors.js';
import { pathText, rawFromString, type RawPath } from '../shared/raw-path.js';
import { planFiles, type PlanHeader } from './format.js';
import { PlanFileError, readDirectories, readHeader, readPart, verifyAgainst } from './read-plan.js';
import { partIndex } from './part-index.js';
import { partListings } from './part-listings.js';
import { PartRecorder } from './part-record.js';

/** What a part run may be given: how it runs and reports. What it copies and how was fixed at planning. */
export type CopyPartOptions = Pick<CopyOptions, 'jobs' | 'log' | 'signal' | 'onProgress' | 'onFailure' | 'onSkip' | 'onEntry' | 'onWarning'>;

const PART_OPTIONS: ReadonlySet<string> = new Set(['jobs', 'log', 'signal', 'onProgress', 'onFailure', 'onSkip', 'onEntry', 'onWarning']);

/** A copy's summary, and which part of which plan it was. */
export interface PartSummary extends CopySummary {
  part: number;
  /** The plan's id. */
  plan: string;
}

/** The plan's options that decide how each entry is copied (its filters decided what was planned); a file replaced is kept aside with backup. */
const COPYING_OPTIONS = ['overwrite', 'modifyWindow', 'xattrs', 'verify', 'backup', 'backupDir', 'suffix'] as const;

/**
 * Copies part `k` (0-based) of the plan in directory `plan`; without `k`, the part the scheduler's
 * environment names (part-index.ts). Resolves with the copy's summary once the part's record is written.
 */
export async function copyPart(plan: string, k?: number, options: CopyPartOptions = {}): Promise<PartSummary> {
  if (typeof plan !== 'string' || plan === '') throw new FoldercopyError('USAGE', `the plan must be a directory (a string), got ${JSON.stringify(plan)}`);
  // The options' types, as copyFolder() checks them (a part has no source argument of its own to check).
  checkArguments('', undefined, options);
  const fixed = Object.keys(options).filter((name) => !PART_OPTIONS.has(name) && (options as Record<string, unknown>)[name] !== undefined);
  if (fixed.length > 0) throw new FoldercopyError('USAGE', `the ${fixed[0]} option is fixed at planning: a part copies as its plan says`);
  const directory = path.resolve(plan);
  const header = readPlan(() => readHeader(directory));
  const part = partIndex({ given: k, env: process.env, parts: header.parts });
  // Its two files are checked against their digests in plan.json: a part of an edited or cut plan copies nothing.
  const entries = readPlan(() => readPart(directory, part, verifyAgainst(header.digests?.parts[part])));
  const directories = readPlan(() => readDirectories(directory, verifyAgainst(header.digests?.directories)));
  const listings = readPlan(() => partListings(directories, entries, planFiles.part(directory, part)));
  const recorder = new PartRecorder(options.onEntry);
  const copyOptions: CopyOptions = { ...copyingOptions(header), ...options, onEntry: recorder.onEntry };
  const target = preflight(header.source, header.destination);
  const prepared = preparePart(target, resolveOptions(copyOptions, target), { header, directory }, options.onWarning);
  const run = new CopyRun({ target, prepared, filter: null, options: copyOptions, selection: null, partListings: listings });
  const summary = await run.run();
  // Interrupted, the part is not done: no record, and the next run of it does the rest.
  if (!summary.aborted) {
    try {
      // Whether it kept owners: the check compares them only where the part did, as a copy keeps them only as root.
      recorder.write({ directory, id: header.id, part, owners: prepared.resolved.worker.owners.preserve }, entries, summary.stoppedBy);
    } catch (error) {
      const record = errorRecord(error, 'write', rawFromString(planFiles.record(directory, part)));
      const failure = { ...record, path: pathText(record.path) };
      options.onFailure?.(failure);
      summary.failures.push(failure);
    }
  }
  return { ...summary, part, plan: header.id };
}

function copyingOptions(header: PlanHeader): CopyOptions {
  const copying: Record<string, unknown> = {};
  for (const name of COPYING_OPTIONS) if (header.options[name] !== undefined) copying[name] = header.options[name];
  return copying as CopyOptions;
}

/** A plan file that is missing or garbled is a refusal naming it. */
function readPlan<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof PlanFileError) throw new FoldercopyError('PLAN_INVALID', error.message, error.file);
    throw error;
  }
}

/**
 * A part's prepareRun (run/prepare.ts): the plan's lock instead of a run's, no staging (the plan made the
 * destination), no sweeping of what other runs of the plan are writing beside it.
 */
function preparePart(target: CopyTarget, resolved: ResolvedOptions, plan: { header: PlanHeader; directory: string }, onWarning?: (warning: CopyWarning) => void): PreparedRun {
  const warnings: CopyWarning[] = [];
  const warn = (message: string, at: RawPath): void => {
    const warning: CopyWarning = { code: 'STALE_LOCK', message, path: pathText(at) };
    warnings.push(warning);
    onWarning?.(warning);
  };
  DestinationLock.takeForPlan({
    destination: rawFromString(target.realDestination),
    shownDestination: target.destination,
    plan: { id: plan.header.id, directory: plan.directory },
    onTakeOver: warn,
  });
  const log = resolved.log === undefined ? null : EntryLog.open(resolved.log);
  return {
    // The destination's root was made at planning; should it be gone, the run makes it again as any directory.
    resolved: { ...resolved, worker: { ...resolved.worker, staged: false } },
    writtenTo: rawFromString(target.destination),
    staging: null,
    log,
    manifest: null,
    lock: null,
    nameRules: { caseInsensitive: false, normalizationInsensitive: false },
    warnings,
  };
}
