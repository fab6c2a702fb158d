/**
 * The command line: parses arguments, picks the renderer, runs copyFolder(),
 * prints the summary and sets the exit code. Everything else lives in the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { copyFolder } from '../run/copy-folder.js';
import { EntryLog } from '../run/entry-log.js';
import { MAX_JOBS } from '../run/options.js';
import { preflight } from '../run/preflight.js';
import type { EntryEvent, OverwritePolicy } from '../run/types.js';
import { EXIT_CODES, FoldercopyError } from '../shared/errors.js';
import { fsPath, pathText, rawFromString } from '../shared/raw-path.js';
import { tempPathFor } from '../shared/temp-name.js';
import { destinationNotice } from './notice.js';
import { createRenderer, progressMode, type ProgressMode, type Renderer } from './render.js';
import {
  entryLine,
  exitCodeFor,
  failureLine,
  refusalJson,
  refusalLine,
  skipLine,
  stagedCopyLine,
  summaryJson,
  summaryLines,
} from './report.js';

// A reader that goes away (`| head`) must not kill a copy halfway with a stack trace: the copy goes on unheard.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP_AFTER = `
The destination receives the contents of the source, like \`rsync -a src/ dest/\`:
running the same command again never nests a copy inside the copy. Files are
written under a temporary name and renamed into place when complete. On a re-run,
a file whose copy has the same size and mtime is skipped (rsync's quick check).

-n and -v list what changes (created, overwritten, deleted) on stdout, so
\`foldercopy -n src dest > plan.txt\` keeps the plan; -vv lists skips too. Progress,
failures and the summary go to stderr.

--delete refuses to start (exit 2) when the destination holds entries none of
which is in the source, or when more than half of its top level would go: the
usual sign of \`foldercopy photos backups/\` meant as \`backups/photos\`. Give
--max-delete to mirror anyway.

Filters: a glob without a slash matches a name at any depth (--exclude node_modules,
--exclude '*.log'); with a slash it matches the path from the source root
(--exclude 'build/**'). An excluded directory is not descended into; excluded
entries at the destination are never deleted.

Examples:
  $ foldercopy ./build /mnt/backup/build   copy the contents of ./build into /mnt/backup/build
  $ foldercopy ./photos                    copy to ./photos_copy
  $ foldercopy -j 4 src dest               use 4 worker processes
  $ foldercopy --delete --dry-run src dest preview a mirror: what would be copied and deleted
  $ foldercopy --json -q src dest > r.json a machine-readable summary for CI

Exit codes:
  0        everything was copied (special files are skipped with a warning)
  1        some entries failed, the copy stopped (destination full, or worker
           processes that keep dying), or --delete deleted nothing because of a
           failure or --max-delete
  2        refused: bad arguments, a destination that cannot be written, another
           run copying into it, a --delete that would empty it: nothing was copied
  130/143  interrupted by Ctrl-C (SIGINT) / SIGTERM; a partial summary is printed`;

interface CliOptions {
  jobs?: number;
  exclude?: string[];
  include?: string[];
  gitignore?: true;
  checksum?: true;
  ignoreExisting?: true;
  update?: true;
  force?: true;
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
  /** --progress (true), --no-progress (false), or neither (automatic). */
  progress?: boolean;
  /** --no-xattrs (false). */
  xattrs?: boolean;
}

function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!/^\d+$/.test(value) || jobs < 1 || jobs > MAX_JOBS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_JOBS}.`);
  }
  return jobs;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

function countVerbosity(_value: string, previous: number | undefined): number {
  return (previous ?? 0) + 1;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function overwritePolicy(options: CliOptions): OverwritePolicy {
  if (options.checksum) return 'checksum';
  if (options.ignoreExisting) return 'never';
  if (options.update) return 'older';
  if (options.force) return 'always';
  return 'changed';
}

/**
 * The staging directory of a first copy this process is making, if there is one
 * now: `.<destination>.<our pid>.foldercopy-part` beside the destination
 * (src/destination/staging.ts names it after the parent's pid, and adopts an
 * older one by renaming it to that name), as lossless text.
 */
function stagingInProgress(source: string, destination: string | undefined): string | undefined {
  try {
    // The destination as the run resolved it (a default name, a file into a directory…).
    const target = preflight(source, destination);
    if (target.kind !== 'dir') return undefined;
    const staging = tempPathFor(rawFromString(target.destination), process.pid);
    return fs.lstatSync(fsPath(staging), { throwIfNoEntry: false })?.isDirectory() ? pathText(staging) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Entry lines (-v, -n) are the run's listing and go to stdout, as `rsync -n`'s do,
 * so `foldercopy -n src dest > plan.txt` keeps the plan; status, failures and the
 * summary stay on stderr. When stdout is taken by --json or `--log -`, they stay on
 * stderr. On a terminal with the bar, they print above the bar.
 */
function entryPrinter(options: CliOptions, renderer: Renderer, mode: ProgressMode): (line: string) => void {
  if (options.json || options.log === '-') return (line) => renderer.message(line);
  // The same terminal as the bar's: a line written past the bar would be drawn over.
  if (mode === 'bar' && process.stdout.isTTY) return (line) => renderer.message(line);
  return (line) => process.stdout.write(`${line}\n`);
}

/** `--log -`: one JSON line per entry on stdout, buffered as the file log is. */
function stdoutLog(options: CliOptions): EntryLog | null {
  return options.log === '-' ? EntryLog.toStream(process.stdout) : null;
}

async function run(source: string, destination: string | undefined, options: CliOptions): Promise<void> {
  if (options.log === '-' && options.json) {
    process.stderr.write('foldercopy: --log - and --json both write to stdout: give --log a file name (see foldercopy --help)\n');
    process.exitCode = EXIT_CODES.usage;
    return;
  }
  const mode: ProgressMode = options.quiet ? 'off' : progressMode(options.progress, process.stderr.isTTY === true, process.env);
  const showProgress = mode !== 'off';
  const renderer = await createRenderer(process.stderr, mode);
  const controller = new AbortController();
  const entryLog = stdoutLog(options);
  let stoppedBySignal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    const code = signal === 'SIGINT' ? EXIT_CODES.interrupted : EXIT_CODES.terminated;
    if (stoppedBySignal) {
      // Second signal: leave now. Workers exit on their own when the IPC channel closes.
      renderer.stop();
      entryLog?.close();
      process.stderr.write('foldercopy: stopped at once\n');
      // A first copy left under its staging name: say where, as the next run will adopt it.
      const staging = stagingInProgress(source, destination);
      if (staging !== undefined) process.stderr.write(`${stagedCopyLine(staging)}\n`);
      process.exit(code);
    }
    stoppedBySignal = signal;
    if (!options.quiet) {
      renderer.message(`foldercopy: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; finishing files in flight (Ctrl-C again to quit at once)`);
    }
    controller.abort();
  };
  // Only when listed: an entry event costs the copy a formatted path per entry.
  const verbosity = options.verbose ?? 0;
  const showEntries = (verbosity > 0 || options.dryRun === true) && !options.quiet;
  // What changes, as `rsync -n` lists it; entries left as they were only at -vv.
  const showSkips = verbosity >= 2;
  const printEntry = entryPrinter(options, renderer, mode);
  const onEntry =
    showEntries || entryLog
      ? (event: EntryEvent): void => {
          entryLog?.add(event);
          // Failures and special files have lines of their own.
          if (showEntries && event.action !== 'fail' && event.type !== 'special' && (showSkips || event.action !== 'skip')) printEntry(entryLine(event));
        }
      : undefined;
  // Said once the copy is done: where the contents went, when that may surprise a cp user.
  const notice = options.quiet ? undefined : destinationNotice(source, destination, options.delete === true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await copyFolder(source, destination, {
      jobs: options.jobs,
      signal: controller.signal,
      onProgress: showProgress ? (progress) => renderer.progress(progress) : undefined,
      onFailure: (failure) => renderer.message(failureLine(failure)),
      onSkip: options.quiet ? undefined : (skip) => renderer.message(skipLine(skip)),
      onEntry,
      exclude: options.exclude,
      include: options.include,
      gitignore: options.gitignore,
      overwrite: overwritePolicy(options),
      dryRun: options.dryRun,
      verify: options.verify,
      manifest: options.manifest,
      log: entryLog ? undefined : options.log,
      delete: options.delete,
      maxDelete: options.maxDelete,
      xattrs: options.xattrs,
    });
    renderer.stop();
    entryLog?.close();
    const exitCode = exitCodeFor(summary, stoppedBySignal);
    const lines = options.quiet ? summaryLines(summary).slice(1) : summaryLines(summary);
    if (notice !== undefined && !summary.aborted) lines.unshift(summary.dryRun ? notice.replace(' went into ', ' would go into ') : notice);
    if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
    if (options.json) process.stdout.write(summaryJson(summary, exitCode));
    process.exitCode = exitCode;
  } catch (error) {
    renderer.stop();
    entryLog?.close();
    if (!(error instanceof FoldercopyError)) throw error;
    process.stderr.write(`${refusalLine(error)}\n`);
    if (options.json) process.stdout.write(refusalJson(error, EXIT_CODES.usage));
    process.exitCode = EXIT_CODES.usage;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const program = new Command()
  .name('foldercopy')
  .description('Copy a folder fast and safely with a pool of worker processes, keeping modes, times, links and owners.')
  .version(version, '-V, --version')
  .argument('<source>', 'the folder (or single file) to copy')
  .argument('[destination]', 'where its contents go (default: <source>_copy beside it)')
  .option('-j, --jobs <n>', `worker processes (default: ${os.availableParallelism()}, the available CPUs)`, parseJobs)
  .option('--exclude <glob>', 'do not copy entries matching the glob (repeatable)', collect)
  .option('--include <glob>', 'copy only files matching the glob (repeatable; --exclude wins)', collect)
  .option('--gitignore', 'honour .gitignore files at every level of the source')
  .addOption(new Option('--checksum', 'skip a file only if its content is the same (reads both)').conflicts(['ignoreExisting', 'update', 'force']))
  .addOption(new Option('--ignore-existing', 'never overwrite anything at the destination').conflicts(['update', 'force']))
  .addOption(new Option('--update', 'overwrite only files older than the source').conflicts(['force']))
  .option('--force', 'rewrite every file, even an up-to-date one')
  .option('-n, --dry-run', 'list on stdout what would be created, overwritten and deleted (-vv: skipped too); change nothing')
  .option('--delete', 'delete destination entries that are not in the source (excluded ones are kept), after a successful copy')
  .option('--max-delete <n>', 'with --delete: delete nothing if more than n entries would go', parseCount)
  .option('--no-xattrs', 'do not copy extended attributes, ACLs and file capabilities')
  .option('--verify', 're-read every written file and compare its SHA-256 with the source')
  .option('--manifest <file>', 'write the SHA-256 of every file in the copy, for `sha256sum -c` run in the destination')
  .option('--json', 'print a JSON summary on stdout at the end (nothing else goes to stdout)')
  .option('--log <file>', 'write one JSON line per entry (path, action, type, size, reason) to the file, or to stdout for -')
  .addOption(new Option('-q, --quiet', 'print only errors').conflicts(['verbose']))
  .option('-v, --verbose', 'print one line per entry created, overwritten or deleted, on stdout; -vv: skipped ones too', countVerbosity)
  .option('--progress', 'draw the progress bar on a terminal even in CI or with TERM=dumb')
  .option('--no-progress', 'no progress bar or status lines')
  .addHelpText('after', HELP_AFTER)
  .configureOutput({
    // One line with a hint instead of commander's two-line error.
    outputError: (message, write) => write(`foldercopy: ${message.replace(/^error: /, '').trim()} (see foldercopy --help)\n`),
  })
  .exitOverride()
  .action(run);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT_CODES.success : EXIT_CODES.usage;
  } else {
    process.stderr.write(
      'foldercopy: internal error (a bug in foldercopy, not in your files); please report it with this output:\n' +
        `${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = EXIT_CODES.someFailed;
  }
}
