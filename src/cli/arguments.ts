/** The command line's options as commander gives them, and the parsers of their values. */
import { InvalidArgumentError } from 'commander';
import { MAX_JOBS, type OverwritePolicy, type Shard } from '../index.js';

export interface CliOptions {
  /** -a, -r: what foldercopy always does; accepted for cp and rsync habits, never read. */
  archive?: true;
  recursive?: true;
  jobs?: number;
  exclude?: string[];
  excludeFrom?: string[];
  filesFrom?: string;
  from0?: true;
  flat?: true;
  include?: string[];
  gitignore?: true;
  shard?: Shard;
  overwrite?: true;
  checksum?: true;
  ignoreExisting?: true;
  update?: true;
  force?: true;
  modifyWindow?: number;
  oneFileSystem?: true;
  backup?: true;
  backupDir?: string;
  suffix?: string;
  dryRun?: true;
  json?: true;
  log?: string;
  verify?: true;
  manifest?: string;
  delete?: true;
  maxDelete?: number;
  quiet?: true;
  /** How many times -v was given: entry lines for changes at 1, skips too at 2. */
  verbose?: number;
  /** How many times -i was given: rsync's item lines for changes at 1, for every entry at 2. */
  itemizeChanges?: number;
  /** --progress (true), --no-progress (false), or neither (automatic). */
  progress?: boolean;
  /** --no-xattrs (false). */
  xattrs?: boolean;
  linkDest?: string[];
  snapshot?: true;
  keep?: number;
  /** --make-plan PLANDIR, --parts, --max-part-files: write a planned copy's plan (cli/planned.ts). */
  makePlan?: string;
  parts?: number;
  maxPartFiles?: number;
  /** --plan PLANDIR: copy one part of a plan ([--part K]), or with --finalize or --check, that step of it. */
  plan?: string;
  part?: number;
  finalize?: true;
  check?: true;
}

/** Outputs that cannot be given together, or a name that reads as stdout where only a file works: the one-line reason. */
export function outputConflict(options: CliOptions): string | undefined {
  if (options.log === '-' && options.json) return '--log - and --json both write to stdout: give --log a file name';
  // The manifest is renamed into place whole at the end, so it needs a real file; `-` would make one named '-'.
  if (options.manifest === '-') return '--manifest needs a file name: it is written whole at the end, not to stdout';
  return undefined;
}

export function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!/^\d+$/.test(value) || jobs < 1 || jobs > MAX_JOBS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_JOBS}.`);
  }
  return jobs;
}

/** --shard K/N: two whole numbers with 0 <= K < N (rclone's --hash-filter also takes K >= N, as K mod N, and `@`). */
export function parseShardArgument(value: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!Number.isSafeInteger(count) || count < 1 || !(index < count)) {
    throw new InvalidArgumentError('expected k/n, whole numbers with 0 <= k < n (0/8 to 7/8 for 8 shards).');
  }
  return { index, count };
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

export function countVerbosity(_value: string, previous: number | undefined): number {
  return (previous ?? 0) + 1;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Undefined when no flag chose one: the library's default, with its guard against overwriting another tree. */
export function overwritePolicy(options: CliOptions): OverwritePolicy | undefined {
  if (options.checksum) return 'checksum';
  if (options.ignoreExisting) return 'never';
  if (options.update) return 'older';
  if (options.force) return 'always';
  if (options.overwrite) return 'changed';
  return undefined;
}

/** The command's flag for each library option a message may name. */
const FLAGS: Readonly<Record<string, string>> = {
  overwrite: '--overwrite',
  delete: '--delete',
  maxDelete: '--max-delete',
  files: 'a file list (--files-from or a glob)',
  flat: '--flat',
  exclude: '--exclude',
  include: '--include',
  jobs: '--jobs',
  log: '--log',
  manifest: '--manifest',
  dryRun: '--dry-run',
  verify: '--verify',
  modifyWindow: '--modify-window',
  oneFileSystem: '--one-file-system',
  backup: '--backup',
  backupDir: '--backup-dir',
  suffix: '--suffix',
  gitignore: '--gitignore',
  shard: '--shard',
  xattrs: '--no-xattrs',
  linkDest: '--link-dest',
  snapshot: '--snapshot',
  keep: '--keep',
  plan: '--make-plan',
  parts: '--parts',
  maxPartFiles: '--max-part-files',
  itemize: '--itemize-changes',
};

/** A library message in the command's terms: `the maxDelete option` is `--max-delete`. */
export function inCliTerms(text: string): string {
  return text.replace(/\bthe (\w+) option\b/g, (phrase, name: string) => FLAGS[name] ?? phrase);
}
