/**
 * The linkDest option (--link-dest), resolved as rsync resolves it: each tree a
 * path, a relative one relative to the destination (`--link-dest ../2026-12-06`
 * beside it), at most 20, the first that holds a file unchanged wins. A tree that
 * is not there is not a refusal: the run warns and copies without it, as rsync
 * does, so a nightly job's first run, with nothing to link against yet, works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';
import { rawFromString, type RawPath } from '../shared/raw-path.js';
import type { CopyTarget } from './preflight.js';

// rsync's limit on --compare-dest, --copy-dest and --link-dest together.
const MAX_LINK_DESTS = 20;

export interface LinkDestTrees {
  /** Absolute paths of the trees that exist, in order; undefined when none does (nothing to do per file). */
  roots: RawPath[] | undefined;
  /** The trees given that are not directories, as given: each a warning. */
  missing: string[];
}

export function resolveLinkDest(given: readonly string[] | undefined, target: CopyTarget): LinkDestTrees {
  if (given === undefined || given.length === 0) return { roots: undefined, missing: [] };
  if (given.length > MAX_LINK_DESTS) {
    throw new FoldercopyError('USAGE', `the linkDest option takes at most ${MAX_LINK_DESTS} directories, got ${given.length}`);
  }
  if (target.kind !== 'dir') throw new FoldercopyError('USAGE', `the linkDest option needs a source directory, not a file: ${target.source}`, target.source);
  const roots: RawPath[] = [];
  const missing: string[] = [];
  for (const tree of given) {
    if (tree === '') throw new FoldercopyError('USAGE', 'the linkDest option names an empty directory');
    const resolved = path.resolve(target.destination, tree);
    if (fs.statSync(resolved, { throwIfNoEntry: false })?.isDirectory()) roots.push(rawFromString(resolved));
    else missing.push(tree);
  }
  return { roots: roots.length > 0 ? roots : undefined, missing };
}
