/**
 * copyFolder(): the library's function for one source, which copyFolders() and
 * the CLI are layers over: preflight and options (refusals) → prepare (opens and
 * creates, refusals too) → the run (copy-run.ts).
 */
import { checkOverwriteTarget } from '../destination/overwrite-guard.js';
import { checkDeleteTarget } from '../delete/refusals.js';
import { rawFromString, type RawPath } from '../shared/raw-path.js';
import type { TreeFilter } from '../source/filter.js';
import { selectionOf, type Selection } from '../source/selection.js';
import { CopyRun } from './copy-run.js';
import { checkArguments, resolveOptions, type ResolvedOptions } from './options.js';
import { checkKeep, takeSnapshot } from './snapshot.js';
import { preflight, type CopyTarget } from './preflight.js';
import { prepareRun } from './prepare.js';
import type { CopyOptions, CopySummary } from './types.js';

/** Copies the contents of `source` into `destination` (default: `<source>_copy` beside it). */
export async function copyFolder(source: string, destination?: string, options: CopyOptions = {}): Promise<CopySummary> {
  checkArguments(source, destination, options);
  checkKeep(options);
  // A snapshot is one copy into a new directory of the destination, with steps before and after it.
  return options.snapshot === true ? takeSnapshot(source, destination, options, copyOnce) : copyOnce(source, destination, options);
}

async function copyOnce(source: string, destination: string | undefined, options: CopyOptions): Promise<CopySummary> {
  const { target, resolved, filter, selection } = await refuseOrResolve(source, destination, options);
  const prepared = prepareRun(target, resolved, options.onWarning);
  let run: CopyRun;
  try {
    run = new CopyRun({ target, prepared, filter, options, selection });
  } catch (error) {
    prepared.lock?.release();
    throw error;
  }
  return run.run();
}

/** What a copy is of, once everything it refuses before writing anything was checked (a planned copy's planning refuses the same). */
export interface CheckedCopy {
  target: CopyTarget;
  resolved: ResolvedOptions;
  filter: TreeFilter | null;
  selection: Selection | null;
}

export async function refuseOrResolve(source: string, destination: string | undefined, options: CopyOptions): Promise<CheckedCopy> {
  const target = preflight(source, destination);
  const resolved = resolveOptions(options, target);
  const filter = target.kind === 'dir' ? await loadFilter(rawFromString(target.source), options) : null;
  const selection = options.files === undefined ? null : selectionOf(options.files, options.gitignore === true);
  // A refusal before anything is written: delete would remove what the destination held beside the source's names.
  checkDeleteTarget({ target, resolved, filter, shown: { source, destination: destination ?? target.destination } });
  // The same for the cp habit without delete: files of another tree would be replaced. An overwrite policy given says the user meant it.
  if (options.overwrite === undefined && !resolved.delete && target.kind === 'dir' && selection === null) {
    const looking = { filter, modifyWindow: resolved.worker.modifyWindow };
    checkOverwriteTarget(rawFromString(target.source), rawFromString(target.destination), looking, { source, destination: destination ?? target.destination });
  }
  return { target, resolved, filter, selection };
}

/** The matchers load only when asked for: their ~15 ms would count against every small copy. */
async function loadFilter(root: RawPath, options: CopyOptions): Promise<TreeFilter | null> {
  if (!options.exclude?.length && !options.include?.length && !options.gitignore && options.shard === undefined) return null;
  const { TreeFilter } = await import('../source/filter.js');
  return TreeFilter.create(root, options);
}
