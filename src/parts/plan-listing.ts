/**
 * A plan read whole, for the steps that need all of it (finalize, check): its
 * header, directories and the entries of every part; the settings of the copy
 * they read from the plan's options; and the filter the copy was planned with,
 * which tells which destination names a mirror keeps and which source names the
 * plan left out on purpose.
 *
 * The options are the library's option names (CopyOptions) as make-plan
 * resolved them; a step reads only those below, with the copy's defaults.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { isInside } from '../run/preflight.js';
import type { BackupSettings } from '../shared/keep-aside.js';
import { FoldercopyError } from '../shared/errors.js';
import { childPath, parentOf, rawFromString, type RawPath } from '../shared/raw-path.js';
import { TreeFilter } from '../source/filter.js';
import { planFiles, type PlanHeader, type PlannedDirectory, type PlannedEntry } from './format.js';
import { PlanFileError, readDirectories, readHeader, readPart, verifyAgainst, type Verify } from './read-plan.js';

const DAMAGED_LISTING = 'the plan is damaged: its part files and directories.ndjson are not what planning wrote (their SHA-256 is not the listing plan.json holds); make the plan again';

export interface PlanListing {
  /** The plan directory. */
  plan: string;
  header: PlanHeader;
  /** Parents first; "" is the root. */
  directories: PlannedDirectory[];
  /** By part index. */
  parts: PlannedEntry[][];
  /** The roots as raw paths. */
  source: RawPath;
  destination: RawPath;
}

/** The options of the planned copy that finalize and check act on. */
export interface PlanSettings {
  delete: boolean;
  maxDelete: number | undefined;
  xattrs: boolean;
  modifyWindow: number;
  exclude: string[];
  include: string[];
  gitignore: boolean;
  /** Mount points below the source were made, not entered. */
  oneFileSystem: boolean;
  /** A file's names were made one inode (what every copy does). */
  hardLinks: boolean;
  /** The paths --files-from listed (relative to the source): only they were planned. */
  files: string[] | undefined;
  /** --backup: what the finalize's --delete deletes is kept aside first, as a copy's delete keeps it. */
  backup: BackupSettings | null;
  /** A backup directory inside the destination (relative to it): never deleted. */
  keptFromDelete: RawPath | null;
}

/** Reads the whole plan; a missing, garbled or damaged file (one not as planning wrote it) is a refusal naming it. */
export function loadPlan(plan: string): PlanListing {
  try {
    const header = readHeader(plan);
    // Every file read is checked against its digest, then all of them against the listing's.
    const listing = crypto.createHash('sha256');
    const verify = (expected: string | undefined): Verify => {
      const against = verifyAgainst(expected);
      return (file, text) => {
        against(file, text);
        listing.update(text);
      };
    };
    const parts: PlannedEntry[][] = [];
    for (let k = 0; k < header.parts; k++) parts.push(readPart(plan, k, verify(header.digests?.parts[k])));
    const directories = readDirectories(plan, verify(header.digests?.directories));
    if (listing.digest('hex') !== header.listing) throw new PlanFileError(planFiles.header(plan), DAMAGED_LISTING);
    return { plan, header, directories, parts, source: rawFromString(header.source), destination: rawFromString(header.destination) };
  } catch (error) {
    if (error instanceof PlanFileError) throw new FoldercopyError('PLAN_UNREADABLE', `cannot read the plan: ${error.message}`, error.file);
    throw error;
  }
}

export function planSettings({ plan, header }: PlanListing): PlanSettings {
  const options = header.options;
  const wrong = (name: string, what: string): never => {
    throw new FoldercopyError('PLAN_UNREADABLE', `cannot read the plan: ${planFiles.header(plan)}: the option ${name} is not ${what}`);
  };
  const flag = (name: string, otherwise: boolean): boolean => {
    const value = options[name];
    return value === undefined ? otherwise : typeof value === 'boolean' ? value : wrong(name, 'true or false');
  };
  const count = (name: string): number | undefined => {
    const value = options[name];
    return value === undefined || value === null ? undefined : Number.isInteger(value) && (value as number) >= 0 ? (value as number) : wrong(name, 'a whole number');
  };
  const text = (name: string): string | undefined => {
    const value = options[name];
    return value === undefined || typeof value === 'string' ? value : wrong(name, 'a string');
  };
  const list = (name: string): string[] => {
    const value = options[name];
    if (value === undefined) return [];
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : wrong(name, 'a list of patterns');
  };
  return {
    delete: flag('delete', false),
    maxDelete: count('maxDelete'),
    xattrs: flag('xattrs', true),
    modifyWindow: count('modifyWindow') ?? 0,
    exclude: list('exclude'),
    include: list('include'),
    gitignore: flag('gitignore', false),
    oneFileSystem: flag('oneFileSystem', false),
    hardLinks: flag('hardLinks', true),
    files: options.files === undefined ? undefined : list('files'),
    ...backupOf(flag('backup', false), text('backupDir'), text('suffix'), header.destination),
  };
}

/** The backup settings make-plan resolved (run/backup-options.ts): the directory absolute, the suffix given or the default. */
function backupOf(backup: boolean, dir: string | undefined, suffix: string | undefined, destination: string): Pick<PlanSettings, 'backup' | 'keptFromDelete'> {
  if (!backup) return { backup: null, keptFromDelete: null };
  return {
    backup: { suffix: rawFromString(suffix ?? (dir === undefined ? '~' : '')), dir: dir === undefined ? null : rawFromString(dir) },
    keptFromDelete: dir !== undefined && isInside(dir, destination) ? rawFromString(path.relative(destination, dir)) : null,
  };
}

/** Every planned name, by the directory that holds it ("" for the root's). */
export function namesByDirectory(listing: PlanListing): Map<RawPath, Set<RawPath>> {
  const names = new Map<RawPath, Set<RawPath>>();
  const add = (path: RawPath): void => {
    const parent = parentOf(path);
    if (parent === null) return;
    let set = names.get(parent);
    if (set === undefined) names.set(parent, (set = new Set()));
    set.add(path.slice(parent === '' ? 0 : parent.length + 1));
  };
  for (const directory of listing.directories) {
    add(directory.path);
    if (!names.has(directory.path)) names.set(directory.path, new Set());
  }
  for (const part of listing.parts) for (const entry of part) add(entry.path);
  return names;
}

/**
 * The filter the copy was planned with, null when it had none. Its .gitignore rules are those of the planned
 * .gitignore files, read from the source, parents first, as the walk read them.
 */
export function planFilter(listing: PlanListing, settings: PlanSettings, names: ReadonlyMap<RawPath, ReadonlySet<RawPath>>): TreeFilter | null {
  const filter = TreeFilter.create(listing.source, settings);
  if (filter === null || !settings.gitignore) return filter;
  const gitignore = { name: '.gitignore', isDirectory: () => false, isFile: () => true };
  for (const { path } of listing.directories) {
    if (names.get(path)?.has('.gitignore') && !names.has(childPath(path, '.gitignore'))) filter.admit(path, [gitignore]);
  }
  return filter;
}
