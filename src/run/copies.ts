/**
 * copyFolders(): several sources, globs and file lists (sources.ts makes them
 * copyFolder() calls) copied one after the other, and one summary of them all.
 * A copy interrupted or stopped ends the sequence.
 */
import { FoldercopyError } from '../shared/errors.js';
import { copyFolder } from './copy-folder.js';
import { preflight } from './preflight.js';
import { expandSources, type SourceCopy } from './sources.js';
import type { CopyFoldersOptions, CopyFoldersSummary, CopySummary, EntryEvent, VerifiedCount } from './types.js';

/** Copies each source into `destination` (its contents for one source, as copyFolder(); `destination/<name>` for each of several). */
export async function copyFolders(sources: readonly string[], destination?: string, options: CopyFoldersOptions = {}): Promise<CopyFoldersSummary> {
  checkSources(sources, options);
  const startedAt = performance.now();
  const { flat = false, onCopies, ...copyOptions } = options;
  const copies = await expandSources(sources, destination, { flat, files: options.files });
  if (copies.length > 1) {
    // Their paths are relative to one source and one destination.
    if (options.log !== undefined || options.manifest !== undefined) {
      throw new FoldercopyError('USAGE', 'the log option and the manifest option take one source: with several sources or the flat option, give one run each');
    }
    // Each source checked before any is copied: a refusal of any refuses them all.
    for (const copy of copies) preflight(copy.source, copy.destination);
  }
  onCopies?.(copies.map(({ source, destination }) => ({ source, destination })));
  const summaries: CopySummary[] = [];
  const combined = (): CopySummary => combinedSummary(summaries, destination ?? sources[sources.length - 1]!, Math.round(performance.now() - startedAt));
  try {
    for (const copy of copies) {
      const summary = await copyFolder(copy.source, copy.destination, { ...copyOptions, files: copy.files, onEntry: inDestination(options.onEntry, copy) });
      summaries.push(summary);
      if (summary.aborted || summary.stoppedBy) break;
    }
  } catch (error) {
    // A source refused once others were copied (another run holds the destination's lock…): what was copied is told too.
    if (error instanceof FoldercopyError && summaries.length > 0) error.copied = combined();
    throw error;
  }
  return { ...(copies.length === 1 ? summaries[0]! : combined()), copies: summaries };
}

/** The arguments copyFolders() adds to copyFolder()'s, checked at run time as copyFolder() checks its own. */
function checkSources(sources: unknown, options: unknown): void {
  const { flat, onCopies } = (typeof options === 'object' && options !== null ? options : {}) as CopyFoldersOptions;
  if (onCopies !== undefined && typeof onCopies !== 'function') throw new FoldercopyError('USAGE', 'the onCopies option must be a function');
  if (!Array.isArray(sources) || sources.length === 0 || !sources.every((source) => typeof source === 'string')) {
    throw new FoldercopyError('USAGE', `the sources must be a non-empty array of paths (strings), got ${JSON.stringify(sources) ?? String(sources)}`);
  }
  if (flat !== undefined && typeof flat !== 'boolean') throw new FoldercopyError('USAGE', `the flat option must be true or false, got ${JSON.stringify(flat)}`);
}

/** Entry events with their paths as they are in the destination: a copy's own are relative to its root. */
function inDestination(onEntry: ((event: EntryEvent) => void) | undefined, { prefix }: SourceCopy): ((event: EntryEvent) => void) | undefined {
  if (onEntry === undefined || prefix === '') return onEntry;
  const inCopy = (path: string): string => (path === '.' ? prefix : `${prefix}/${path}`);
  // A hard link's first name is an entry of the copy too (a symlink's target is its text, left as it is).
  return (event) => onEntry({ ...event, path: inCopy(event.path), ...(event.type === 'hardlink' && event.target !== undefined && { target: inCopy(event.target) }) });
}

/**
 * Several copies (several sources, --flat) as one summary: counts, failures and special files summed, the first
 * stop and the first reason delete deleted nothing, aborted if any was; `source` is '' (there is none), `durationMs`
 * the whole run's.
 */
function combinedSummary(summaries: readonly CopySummary[], destination: string, durationMs: number): CopySummary {
  const sum = (key: 'files' | 'directories' | 'symlinks' | 'hardLinks' | 'bytes' | 'created' | 'linked' | 'overwritten' | 'skipped' | 'deleted' | 'backedUp'): number =>
    summaries.reduce((total, summary) => total + summary[key], 0);
  const metadataNotKept = { ...summaries[0]!.metadataNotKept };
  for (const summary of summaries.slice(1)) {
    for (const key of Object.keys(metadataNotKept) as Array<keyof typeof metadataNotKept>) metadataNotKept[key] += summary.metadataNotKept[key];
  }
  return {
    source: '',
    destination,
    dryRun: summaries[0]!.dryRun,
    files: sum('files'),
    directories: sum('directories'),
    symlinks: sum('symlinks'),
    hardLinks: sum('hardLinks'),
    bytes: sum('bytes'),
    created: sum('created'),
    linked: sum('linked'),
    overwritten: sum('overwritten'),
    skipped: sum('skipped'),
    deleted: sum('deleted'),
    backedUp: sum('backedUp'),
    metadataNotKept,
    verified: summedVerified(summaries),
    specialFiles: summaries.flatMap((summary) => summary.specialFiles),
    failures: summaries.flatMap((summary) => summary.failures),
    warnings: summaries.flatMap((summary) => summary.warnings),
    durationMs,
    aborted: summaries.some((summary) => summary.aborted),
    stoppedBy: summaries.find((summary) => summary.stoppedBy)?.stoppedBy,
    deletionSkipped: summaries.find((summary) => summary.deletionSkipped)?.deletionSkipped,
  };
}

function summedVerified(summaries: readonly CopySummary[]): VerifiedCount | undefined {
  if (summaries.every((summary) => summary.verified === undefined)) return undefined;
  const sum = (key: keyof VerifiedCount): number => summaries.reduce((total, summary) => total + (summary.verified?.[key] ?? 0), 0);
  return { files: sum('files'), throughCache: sum('throughCache'), unchanged: sum('unchanged') };
}
