/**
 * A file list (CopyOptions.files: a glob's matches, --files-from): the walk visits
 * only the listed paths and the directories above them, instead of the whole tree.
 * The list is grouped by directory here, so the walk yields the same listings,
 * one per directory, parents before children, and the planner, pool and workers
 * do what they do for a whole tree.
 */
import { FoldercopyError } from '../shared/errors.js';
import { childPath, rawFromText, type RawPath } from '../shared/raw-path.js';

export interface Selection {
  /** The names listed in each directory to visit, by its path from the source root ('' is the root). */
  readonly names: ReadonlyMap<RawPath, ReadonlySet<RawPath>>;
  /** Read each visited directory's .gitignore (--gitignore), listed or not. */
  readonly gitignore: boolean;
}

/**
 * Paths relative to the source, as lossless text (surrogateescape): `a//b`, `./a`
 * and `a/` mean `a/b`, `a`, `a`; duplicates count once. An absolute path, a `..`
 * segment, a NUL byte or a path that names the source itself is refused (USAGE).
 */
export function selectionOf(files: readonly string[], gitignore: boolean): Selection {
  const names = new Map<RawPath, Set<RawPath>>([['', new Set()]]);
  for (const file of files) {
    let directory: RawPath = '';
    for (const segment of listedSegments(file)) {
      names.get(directory)!.add(segment);
      directory = childPath(directory, segment);
      if (!names.has(directory)) names.set(directory, new Set());
    }
    // The last segment may name a file: only directories with listed names below them need a set.
    if (names.get(directory)!.size === 0) names.delete(directory);
  }
  return { names, gitignore };
}

function listedSegments(file: string): RawPath[] {
  const invalid = (reason: string): FoldercopyError => new FoldercopyError('USAGE', `a listed path ${reason}: ${JSON.stringify(file)}`, file);
  if (typeof file !== 'string') throw invalid('must be a string');
  let raw: RawPath;
  try {
    raw = rawFromText(file);
  } catch {
    throw invalid('is not a path (a lone surrogate that stands for no byte)');
  }
  if (raw.includes('\0')) throw invalid('holds a NUL byte');
  if (raw.startsWith('/')) throw invalid('must be relative to the source');
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw invalid('must stay inside the source');
  if (segments.length === 0) throw invalid('names the source itself, not a file in it');
  return segments;
}
