/**
 * Which entries of the source tree a copy leaves out: --exclude, --include,
 * --gitignore and --shard (their rules for users are in the README). Each is
 * tested as a directory is read, so an excluded directory is never read; the root
 * is never filtered, and an entry is left out if any of them leaves it out.
 * --shard never leaves out a directory: every shard makes every directory.
 * Patterns match raw names byte for byte (raw-path.ts): `?` is one byte.
 */
import fs from 'node:fs';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { FoldercopyError } from '../shared/errors.js';
import { shardOf } from './shard.js';
import type { Shard } from './shard-option.js';
import { childPath, fsPath, joinRaw, parentOf, rawFromBytes, rawFromString, type RawPath } from '../shared/raw-path.js';

export interface FilterOptions {
  /** Globs (picomatch syntax); a matching entry is not copied and an excluded directory is not descended into. */
  exclude?: readonly string[];
  /** Globs; when any is given, only files and symlinks matching one are copied (directories are still descended into). */
  include?: readonly string[];
  /** Honour .gitignore files at every level of the source, as git does. */
  gitignore?: boolean;
  /** Only the files, symlinks and special files whose path falls in this shard (shard.ts: rclone's --hash-filter rule). */
  shard?: Shard;
}

/** What admit() reads of a directory entry: fs.Dirent has it, with the raw name walk.ts puts in. */
export interface DirentLike {
  readonly name: RawPath;
  isDirectory(): boolean;
  isFile(): boolean;
}

// Globs: a pattern without a slash matches a name at any depth, one with a slash the path from the root (a
// leading `/` or `./` anchors a name pattern there and is dropped), a trailing `/` directories only. A leading
// `!` is a literal: --include is how to keep only some entries. `dir/**` excludes `dir` too (picomatch matches it).
// --include never applies to directories, so a trailing-slash --include would match nothing, and is refused.
// posix: `[!a]` is a negated class, as in shells, rsync and .gitignore (picomatch otherwise reads it as `!` or `a`).
// debug: throw on a pattern picomatch cannot turn into a regular expression (`[z-a]`) rather than match nothing.
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, posix: true, windows: false, debug: true };
const ROOT_ANCHOR = /^(?:\.?\/)+/;
const TRAILING_SLASHES = /\/+$/;

/** Each kind is one regular expression (patterns joined with `|`), so an entry costs one test per kind; null if none. */
interface GlobSet {
  names: RegExp | null;
  paths: RegExp | null;
  directoryNames: RegExp | null;
  directoryPaths: RegExp | null;
}

function compileGlobs(option: 'exclude' | 'include', patterns: readonly string[]): GlobSet | null {
  if (patterns.length === 0) return null;
  const sources: Record<keyof GlobSet, string[]> = { names: [], paths: [], directoryNames: [], directoryPaths: [] };
  for (const pattern of patterns) {
    const invalid = (reason: string): FoldercopyError =>
      new FoldercopyError('USAGE', `invalid pattern ${JSON.stringify(pattern)} in the ${option} option: ${reason}`);
    const raw = rawFromString(pattern);
    const anchored = ROOT_ANCHOR.test(raw);
    const directoryOnly = raw.endsWith('/');
    const glob = raw.replace(ROOT_ANCHOR, '').replace(TRAILING_SLASHES, '');
    if (glob === '') throw invalid(pattern === '' ? 'it is empty' : 'it names no path');
    if (directoryOnly && option === 'include') {
      throw invalid(`an include pattern selects files, not directories; "${glob}/**" selects the files under ${glob}`);
    }
    let regex: RegExp;
    try {
      regex = picomatch.makeRe(glob, GLOB_OPTIONS);
    } catch (error) {
      throw invalid(error instanceof Error ? error.message : String(error));
    }
    const byPath = anchored || glob.includes('/');
    sources[directoryOnly ? (byPath ? 'directoryPaths' : 'directoryNames') : byPath ? 'paths' : 'names'].push(regex.source);
  }
  // picomatch's sources are each anchored (^…$) and use no flags, so an alternation of them is their union.
  const union = (list: string[]): RegExp | null => (list.length === 0 ? null : new RegExp(list.join('|')));
  return {
    names: union(sources.names),
    paths: union(sources.paths),
    directoryNames: union(sources.directoryNames),
    directoryPaths: union(sources.directoryPaths),
  };
}

function readsPaths(globs: GlobSet | null): boolean {
  return globs !== null && (globs.paths !== null || globs.directoryPaths !== null);
}

function matchesGlobs(globs: GlobSet, name: RawPath, path: RawPath, isDirectory: boolean): boolean {
  if (globs.names !== null && globs.names.test(name)) return true;
  if (globs.paths !== null && globs.paths.test(path)) return true;
  if (!isDirectory) return false;
  return (globs.directoryNames !== null && globs.directoryNames.test(name)) || (globs.directoryPaths !== null && globs.directoryPaths.test(path));
}

// --gitignore: the `ignore` package decides, as git does, over the `.gitignore` files only (not .git/info/exclude nor
// the user's global excludes); a symlink named .gitignore is not read, as by git.
// Git is case-sensitive on Linux (core.ignorecase false); the package defaults to the opposite.
const IGNORE_OPTIONS = { ignorecase: false };
const RAW_NEWLINE = '\uE00A';
const RAW_RETURN = '\uE00D';
const RAW_UTF8_BOM = '\xEF\xBB\xBF';
const UNESCAPED_TRAILING_SPACES = /(?<!\\) +$/;
const GLOB_SPECIAL = /[\\*?[\]!#]/g;

/**
 * The rules of `<relativeDir>/.gitignore` rewritten relative to the source root, so that the rules of a whole chain
 * of directories are one list that `ignore` reads as git reads the stack of files: last match wins, deeper files
 * later. (Testing one list per file instead would be wrong where a deeper file re-includes a directory a shallower
 * one ignores: the package reports everything under an ignored directory as ignored.)
 */
function gitignoreRules(bytes: Buffer, relativeDir: RawPath): string[] {
  const text = rawFromBytes(bytes);
  const lines = (text.startsWith(RAW_UTF8_BOM) ? text.slice(RAW_UTF8_BOM.length) : text).split(RAW_NEWLINE);
  const prefix = relativeDir.replace(GLOB_SPECIAL, '\\$&');
  const rules: string[] = [];
  for (const line of lines) {
    // Git drops the CR of a CRLF line end.
    const rule = rebaseRule(line.endsWith(RAW_RETURN) ? line.slice(0, -1) : line, prefix);
    if (rule !== null) rules.push(rule);
  }
  return rules;
}

function rebaseRule(line: string, prefix: string): string | null {
  // The root's rules are already relative to the root, and `ignore` parses them as git does.
  if (prefix === '') return line;
  if (line === '' || line.startsWith('#')) return null;
  const negated = line.startsWith('!');
  // Trailing spaces only matter here for spotting a trailing slash; `ignore` trims the rule exactly as git does.
  const body = (negated ? line.slice(1) : line).replace(UNESCAPED_TRAILING_SPACES, '');
  const stem = body.endsWith('/') ? body.slice(0, -1) : body;
  if (stem === '') return null;
  // As in git: a slash before the end anchors the rule to its directory, else it matches at any depth below it.
  const relative = stem.includes('/') ? body.replace(/^\//, '') : `**/${body}`;
  return `${negated ? '!' : ''}${prefix}/${relative}`;
}

function isGitignoreFile(dirent: DirentLike): boolean {
  return dirent.name === '.gitignore' && dirent.isFile();
}

export class TreeFilter {
  readonly hasIncludes: boolean;
  /** --shard: a directory the run would delete may still hold another shard's entries (delete/pass.ts). */
  readonly shard: Shard | null;
  private readonly globsReadPaths: boolean;
  /** The rules in force below each directory that has a .gitignore with rules (its own and its ancestors'). */
  private readonly gitignoreRulesByDirectory = new Map<RawPath, Ignore>();

  private constructor(
    private readonly root: RawPath,
    private readonly exclude: GlobSet | null,
    private readonly include: GlobSet | null,
    private readonly gitignore: boolean,
    shard: Shard | undefined,
  ) {
    this.hasIncludes = include !== null;
    this.shard = shard ?? null;
    this.globsReadPaths = readsPaths(exclude) || readsPaths(include);
  }

  /** null when the options filter nothing, so the walk pays nothing. Throws FoldercopyError('USAGE') for an invalid or empty pattern, naming it. */
  static create(root: RawPath, options: FilterOptions): TreeFilter | null {
    const exclude = compileGlobs('exclude', options.exclude ?? []);
    const include = compileGlobs('include', options.include ?? []);
    const gitignore = options.gitignore ?? false;
    const none = exclude === null && include === null && !gitignore && options.shard === undefined;
    return none ? null : new TreeFilter(root, exclude, include, gitignore, options.shard);
  }

  /**
   * Called by the walk once per directory it reads ('' is the root), parents before children, with that directory's
   * entries. Returns the entries to keep, in order: the same array when nothing is dropped.
   */
  admit<T extends DirentLike>(relativeDir: RawPath, dirents: T[]): T[] {
    const gitignore = this.gitignore ? this.loadGitignore(relativeDir, dirents) : null;
    const readsPath = this.globsReadPaths || gitignore !== null || this.shard !== null;
    let kept: T[] | null = null;
    for (let index = 0; index < dirents.length; index++) {
      const dirent = dirents[index]!;
      const path = readsPath ? childPath(relativeDir, dirent.name) : '';
      if (this.drops(dirent.name, path, dirent.isDirectory(), gitignore)) kept ??= dirents.slice(0, index);
      else kept?.push(dirent);
    }
    return kept ?? dirents;
  }

  /**
   * For mirroring (--delete): is this path (relative to the source, in the destination) one the filter keeps out of
   * the copy, itself or through an ancestor? Below directories admit() never read, the .gitignore rules of the nearest
   * directory it read apply.
   */
  excludes(relativePath: RawPath, isDirectory: boolean): boolean {
    const gitignore = this.gitignore ? this.gitignoreMatcher(parentOf(relativePath) ?? '') : null;
    for (let path = relativePath, directory = isDirectory; path !== ''; path = parentOf(path) ?? '', directory = true) {
      if (this.drops(path.slice(path.lastIndexOf('/') + 1), path, directory, gitignore)) return true;
    }
    return false;
  }

  /** `path` is the entry's path from the root, or '' when no check reads it. */
  private drops(name: RawPath, path: RawPath, isDirectory: boolean, gitignore: Ignore | null): boolean {
    if (this.exclude !== null && matchesGlobs(this.exclude, name, path, isDirectory)) return true;
    if (!isDirectory && this.include !== null && !matchesGlobs(this.include, name, path, false)) return true;
    if (!isDirectory && this.shard !== null && shardOf(path, this.shard.count) !== this.shard.index) return true;
    // Directory-only rules (`build/`) match only a path that ends in a slash.
    return gitignore !== null && gitignore.test(isDirectory ? `${path}/` : path).ignored;
  }

  /** Reads the directory's .gitignore, if it has one, and returns a matcher for its entries (null when no rules apply). */
  private loadGitignore(relativeDir: RawPath, dirents: readonly DirentLike[]): Ignore | null {
    if (dirents.some(isGitignoreFile)) {
      const rules = this.readGitignore(relativeDir);
      if (rules.length > 0) {
        const parent = parentOf(relativeDir);
        const inherited = parent === null ? null : this.gitignoreRulesFor(parent);
        const ig = ignore(IGNORE_OPTIONS);
        if (inherited !== null) ig.add(inherited);
        this.gitignoreRulesByDirectory.set(relativeDir, ig.add(rules));
      }
    }
    return this.gitignoreMatcher(relativeDir);
  }

  private readGitignore(relativeDir: RawPath): string[] {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(fsPath(joinRaw(this.root, childPath(relativeDir, '.gitignore'))));
    } catch {
      // Copying the file will fail the same way, and that is where the error is reported.
      return [];
    }
    return gitignoreRules(bytes, relativeDir);
  }

  private gitignoreRulesFor(relativeDir: RawPath): Ignore | null {
    if (this.gitignoreRulesByDirectory.size === 0) return null;
    for (let dir: RawPath | null = relativeDir; dir !== null; dir = parentOf(dir)) {
      const rules = this.gitignoreRulesByDirectory.get(dir);
      if (rules !== undefined) return rules;
    }
    return null;
  }

  /**
   * A fresh matcher each time: `ignore` caches the result for every path it tests, which would hold on to every path
   * of the tree (about 150 MB for a million files) and makes each test slower.
   */
  private gitignoreMatcher(relativeDir: RawPath): Ignore | null {
    const rules = this.gitignoreRulesFor(relativeDir);
    return rules === null ? null : ignore(IGNORE_OPTIONS).add(rules);
  }
}
