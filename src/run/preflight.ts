/**
 * Everything checked before anything is written: the source exists and can be
 * copied, the destination is named (or derived), and the two cannot overlap.
 * A copy into itself would feed its own output back into the listing, and a
 * source inside its destination could be overwritten by its own copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FoldercopyError, refusal } from '../shared/errors.js';

export interface CopyTarget {
  kind: 'dir' | 'file';
  /** As the user gave them, normalised: messages show paths the user recognises. */
  source: string;
  destination: string;
  /** The destination itself if it exists, else its nearest existing ancestor. */
  existingAncestor: string;
  /** Both with symlinks resolved (the destination's nearest existing part): what overlap checks compare. */
  realSource: string;
  realDestination: string;
}

export function preflight(sourceArgument: string, destinationArgument: string | undefined): CopyTarget {
  if (sourceArgument === '') throw new FoldercopyError('SOURCE_NOT_FOUND', 'the source path is empty');
  checkLocal(sourceArgument, 'source');
  const source = normalise(sourceArgument);
  const sourceStats = statSource(source);
  const kind = sourceStats.isDirectory() ? 'dir' : sourceStats.isFile() ? 'file' : null;
  if (!kind) throw new FoldercopyError('SOURCE_NOT_COPYABLE', `the source is neither a directory nor a regular file: ${source}`, source);
  if (kind === 'dir') checkReadableDirectory(source);

  // Before normalising, which makes '' the current directory.
  if (destinationArgument === '') throw new FoldercopyError('DESTINATION_INVALID', 'the destination path is empty');
  if (destinationArgument !== undefined) checkLocal(destinationArgument, 'destination');
  let destination = destinationArgument === undefined ? siblingCopyName(source, kind) : normalise(destinationArgument);
  let destinationStats = statDestination(destination);
  // A trailing slash names a directory, as for rsync and cp: `app.js outdir/` makes outdir/app.js.
  const intoDirectory = destinationStats?.isDirectory() === true || (destinationStats === undefined && destinationArgument?.endsWith('/') === true);
  if (kind === 'file' && destinationStats !== undefined && !destinationStats.isDirectory() && destinationArgument?.endsWith('/')) {
    throw new FoldercopyError('DESTINATION_NOT_DIRECTORY', `the destination ends with a slash, but is not a directory: ${destination}`, destination);
  }
  if (kind === 'file' && intoDirectory) {
    destination = path.join(destination, path.basename(source));
    destinationStats = statDestination(destination);
  }
  if (kind === 'dir' && destinationStats && !destinationStats.isDirectory()) {
    throw new FoldercopyError('DESTINATION_NOT_DIRECTORY', `the destination exists and is not a directory: ${destination}`, destination);
  }
  const existingAncestor = nearestExisting(destination);
  if (!lookAgain(existingAncestor, () => fs.statSync(existingAncestor)).isDirectory() && existingAncestor !== destination) {
    throw new FoldercopyError('DESTINATION_INVALID', `the destination cannot be created, ${existingAncestor} is not a directory: ${destination}`, destination);
  }

  const realSource = fs.realpathSync(source);
  const realDestination = lookAgain(destination, () => realPathOf(destination));
  if (realSource === realDestination) {
    throw new FoldercopyError('SAME_PATH', `the source and the destination are the same ${kind === 'dir' ? 'directory' : 'file'}: ${source}`, source);
  }
  if (kind === 'dir' && isInside(realDestination, realSource)) {
    throw new FoldercopyError('DESTINATION_INSIDE_SOURCE', `the destination is inside the source, which would copy the copy: ${destination}`, destination);
  }
  if (isInside(realSource, realDestination)) {
    throw new FoldercopyError('SOURCE_INSIDE_DESTINATION', `the source is inside the destination, where the copy could overwrite it: ${source}`, source);
  }
  return { kind, source, destination, existingAncestor, realSource, realDestination };
}

/**
 * `host:path` and `user@host:/path`, rsync's and scp's remote paths (a colon
 * before any slash), would otherwise be made as a local directory named
 * `user@host:`. A local path of that shape that exists is taken as it is.
 */
function checkLocal(argument: string, side: 'source' | 'destination'): void {
  if (!/^[^/]*:/.test(argument) || fs.lstatSync(argument, { throwIfNoEntry: false }) !== undefined) return;
  throw new FoldercopyError(
    'REMOTE_UNSUPPORTED',
    `a remote ${side} is not supported: ${argument}; copy to and from other machines with rsync or scp (for a local name with a colon, write ./${argument})`,
    argument,
  );
}

/** Drops trailing separators (so `src/` and `src` mean the same) and `.` segments. */
function normalise(argument: string): string {
  const normal = path.normalize(argument);
  const root = path.parse(normal).root;
  return normal.length > root.length ? normal.replace(/[\\/]+$/, '') : normal;
}

/** `photos` → `photos_copy`, `report.pdf` → `report_copy.pdf`, next to the source. */
function siblingCopyName(source: string, kind: 'dir' | 'file'): string {
  const absolute = path.resolve(source);
  const { dir, name, ext, base } = path.parse(absolute);
  if (base === '') throw new FoldercopyError('DESTINATION_INVALID', `cannot name a copy of ${source}; give a destination`, source);
  const copyName = kind === 'file' && name !== '' ? `${name}_copy${ext}` : `${base}_copy`;
  const sibling = path.join(dir, copyName);
  // Keep it relative when the user typed a relative path, so messages stay short.
  return path.isAbsolute(source) ? sibling : path.relative(process.cwd(), sibling) || sibling;
}

function statSource(source: string): fs.Stats {
  try {
    return fs.statSync(source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new FoldercopyError('SOURCE_NOT_FOUND', `source not found: ${source}`, source, { cause: error });
    }
    throw new FoldercopyError('SOURCE_UNREADABLE', `cannot read the source: ${source}: ${code ?? String(error)}`, source, { cause: error });
  }
}

/** What is at the destination, or undefined when nothing is (a file on the way there is refused below). */
function statDestination(destination: string): fs.Stats | undefined {
  try {
    return fs.statSync(destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw refusal('DESTINATION_INVALID', 'cannot use the destination', destination, error);
  }
}

/**
 * A second look at the destination, or at the ancestor found for it, a moment after the
 * first: it can be gone by now (removed meanwhile, or never there but for a network
 * mount's stale cache). The environment's doing, not a bug: a refusal naming the path.
 */
export function lookAgain<T>(destination: string, look: () => T): T {
  try {
    return look();
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot use the destination', destination, error);
  }
}

function checkReadableDirectory(source: string): void {
  try {
    fs.accessSync(source, fs.constants.R_OK | fs.constants.X_OK);
  } catch (error) {
    throw new FoldercopyError('SOURCE_UNREADABLE', `cannot read the source: ${source}: permission denied`, source, { cause: error });
  }
}

function nearestExisting(target: string): string {
  let current = path.resolve(target);
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current === path.resolve(target) ? target : current;
}

/** The path with symlinks resolved as far as it exists. */
export function realPathOf(target: string): string {
  const existing = nearestExisting(target);
  return path.join(fs.realpathSync(existing), path.relative(existing, target));
}

export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
