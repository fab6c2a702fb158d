/**
 * Sources as people give them (cp, rsync, cpy-cli, copyfiles habits), turned
 * into the copyFolder() calls that make the copy (copyFolders() runs them):
 *  - one source: the destination receives its contents (copyFolder's semantics);
 *  - several sources, as `cp -a a b c dest/`: the last argument is the
 *    destination, a directory, and each source goes to `dest/<its name>`;
 *  - a glob source (glob characters, and no such path), as cpy-cli's
 *    `'build/**\/*.map' artifacts/`: the matching files, at their paths below the
 *    glob's base (its static part, `build/`), through the library's `files`;
 *  - --files-from: the listed paths of the one source directory, the same way;
 *  - --flat: each file of a glob or list goes into the destination itself, one
 *    copy per directory of the matches (their source directory).
 * Two sources that would put the same name into the destination are refused
 * before anything is copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FoldercopyError } from '../shared/errors.js';

/** One copyFolder() call of several. */
export interface SourceCopy {
  source: string;
  destination: string | undefined;
  /** The library's `files`: paths relative to `source`. */
  files?: readonly string[];
  /** Where the copy's root lands, relative to the destination argument ('' for the destination itself). */
  prefix: string;
}

export interface SourceOptions {
  flat: boolean;
  /** The files option (--files-from's paths): relative to the one source. */
  files: readonly string[] | undefined;
}

/** The copies that `sources` into `destination` make; a refusal of any refuses them all. */
export async function expandSources(sources: readonly string[], destination: string | undefined, options: SourceOptions): Promise<SourceCopy[]> {
  const several = sources.length > 1;
  if (options.files !== undefined && several) throw new FoldercopyError('USAGE', '--files-from takes one source directory, the one its paths are relative to');
  if (several) checkDirectory(destination!);
  const claims = new Claims(destination ?? '');
  const copies: SourceCopy[] = [];
  for (const source of sources) {
    const glob = await globOf(source);
    if (glob) {
      if (options.files !== undefined) throw new FoldercopyError('USAGE', `--files-from needs a source directory, not a glob: ${source}`, source);
      if (destination === undefined) throw new FoldercopyError('USAGE', `a glob source needs a destination: ${source}`, source);
      copies.push(...listCopies(glob.base, destination, glob.files, options.flat, claims));
    } else if (options.files !== undefined) {
      copies.push(...listCopies(source, destination, options.files, options.flat, claims));
    } else if (options.flat) {
      throw new FoldercopyError('USAGE', 'the flat option applies to the files of a glob source or of --files-from');
    } else if (several) {
      const name = path.basename(path.resolve(source));
      claims.claimTree(name, source);
      copies.push({ source, destination: path.join(destination!, name), prefix: name });
    } else {
      copies.push({ source, destination, prefix: '' });
    }
  }
  return copies;
}

/** With several sources the destination is a directory, existing or to be made. */
function checkDirectory(destination: string): void {
  const stats = fs.statSync(destination, { throwIfNoEntry: false });
  if (stats && !stats.isDirectory()) {
    throw new FoldercopyError('DESTINATION_NOT_DIRECTORY', `with several sources the destination must be a directory: ${destination}`, destination);
  }
}

/** A glob's base and matching files (relative to the base, sorted), or undefined if the argument is a path or no glob. */
async function globOf(argument: string): Promise<{ base: string; files: string[] } | undefined> {
  // A path that exists is a path, whatever characters its name holds.
  if (fs.lstatSync(argument, { throwIfNoEntry: false }) !== undefined) return undefined;
  const { default: fg } = await import('fast-glob');
  if (!fg.isDynamicPattern(argument)) return undefined;
  const base = fg.generateTasks([argument])[0]?.base ?? '.';
  let entries: string[];
  try {
    // Dotfiles match like any other name, as in --exclude; symlinks are matched, never followed.
    entries = await fg(argument, { dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false, unique: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new FoldercopyError('SOURCE_UNREADABLE', `cannot read the glob's directories: ${argument}: ${code ?? message}`, argument, { cause: error });
  }
  const root = path.resolve(base);
  const files = entries.filter((entry) => !entry.endsWith('/')).map((entry) => path.relative(root, path.resolve(entry)));
  if (files.length === 0) throw new FoldercopyError('SOURCE_NOT_FOUND', `no file matches the glob: ${argument}`, argument);
  return { base, files: files.sort() };
}

/** A file list: one copy of the listed paths, or with --flat one copy per directory holding them, each into the destination. */
function listCopies(base: string, destination: string | undefined, files: readonly string[], flat: boolean, claims: Claims): SourceCopy[] {
  if (!flat) {
    for (const file of files) claims.claimFile(path.posix.normalize(file), path.join(base, file));
    return [{ source: base, destination, files, prefix: '' }];
  }
  const byDirectory = new Map<string, string[]>();
  for (const file of files) {
    const normal = path.posix.normalize(file).replace(/\/+$/, '');
    if (path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
      throw new FoldercopyError('USAGE', `a listed path must stay inside the source: ${JSON.stringify(file)}`, file);
    }
    const name = path.posix.basename(normal);
    claims.claimFile(name, path.join(base, normal));
    const directory = path.posix.dirname(normal);
    byDirectory.set(directory, [...(byDirectory.get(directory) ?? []), name]);
  }
  return [...byDirectory].map(([directory, names]) => ({ source: path.join(base, directory), destination, files: names, prefix: '' }));
}

/** Names each source puts into the destination: a source's whole tree (several sources) or single files (globs, lists). */
class Claims {
  private readonly trees = new Map<string, string>();
  private readonly files = new Map<string, string>();
  /** The first file claimed under each top-level name, by that name. */
  private readonly tops = new Map<string, string>();

  constructor(private readonly destination: string) {}

  claimTree(name: string, source: string): void {
    const other = this.trees.get(name) ?? this.tops.get(name);
    if (other !== undefined) this.collide(name, other, source);
    this.trees.set(name, source);
  }

  claimFile(relative: string, source: string): void {
    const top = relative.split('/')[0]!;
    const tree = this.trees.get(top);
    if (tree !== undefined) this.collide(top, tree, source);
    const other = this.files.get(relative);
    if (other !== undefined && path.resolve(other) !== path.resolve(source)) this.collide(relative, other, source);
    this.files.set(relative, source);
    if (!this.tops.has(top)) this.tops.set(top, source);
  }

  private collide(name: string, first: string, second: string): never {
    const target = path.join(this.destination, name);
    throw new FoldercopyError('SOURCE_COLLISION', `two sources would be copied to the same name ${target}: ${first} and ${second}`, second);
  }
}
