/**
 * The command line: parses arguments, picks the renderer, runs copyFolder(),
 * prints the summary and sets the exit code. Everything else lives in the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { copyFolder } from '../run/copy-folder.js';
import { EntryLog } from '../run/entry-log.js';
import { preflight } from '../run/preflight.js';
import type { CopySummary, EntryEvent } from '../run/types.js';
import { errorRecord, EXIT_CODES, FoldercopyError, STOP_SIGNALS, type ErrorRecord, type StopSignal } from '../shared/errors.js';
import { pathText } from '../shared/raw-path.js';
import { activeStagings } from '../destination/staging.js';
import { collect, countVerbosity, inCliTerms, outputConflict, overwritePolicy, parseCount, parseJobs, type CliOptions } from './arguments.js';
import { usageErrorLine } from './habits.js';
import { HELP_AFTER } from './help.js';
import { wrapFields } from './format.js';
import { checkOneStdinList, excludePatterns, listedPaths, readList } from './lists.js';
import { destinationNotice } from './notice.js';
import { createRenderer, progressMode, type ProgressMode, type Renderer } from './render.js';
import { planCopies, type PlannedCopy } from './sources.js';
import {
  combinedSummary,
  entryLine,
  exitCodeFor,
  failureLine,
  refusalJson,
  refusalLine,
  skipLine,
  stagedCopyLine,
  summaryJson,
  summaryLines,
  warningLine,
} from './report.js';

/**
 * What the user asked for on stdout (the -n plan, -v lines, --json, `--log -`)
 * that could not be written, its reader gone (`| head`) or its disk full: one
 * line, and an exit code that says not all was delivered. The copy goes on
 * unheard rather than stop halfway. Failures of stderr have nowhere to be told.
 */
let stdoutFailure: ErrorRecord | undefined;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (stdoutFailure) return;
  stdoutFailure = errorRecord(error, 'write', 'standard output');
  process.stderr.write(`${failureLine(stdoutFailure)}\n`);
  setExitCode(Number(process.exitCode ?? EXIT_CODES.success));
});
process.stderr.on('error', () => undefined);

/** The run's exit code, made a failure when stdout lost what was asked for. */
function setExitCode(code: number): void {
  process.exitCode = code === EXIT_CODES.success && stdoutFailure ? EXIT_CODES.someFailed : code;
}

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };


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

const STOPPED_BY: Record<StopSignal, string> = { SIGHUP: 'hung up', SIGINT: 'interrupted', SIGTERM: 'terminated' };

/** `--log -`: one JSON line per entry on stdout, buffered as the file log is. */
function stdoutLog(options: CliOptions): EntryLog | null {
  return options.log === '-' ? EntryLog.toStream(process.stdout) : null;
}

/** What the arguments and lists ask for, as copyFolder() calls, each source checked: a refusal of any refuses them all. */
async function plan(paths: string[], options: CliOptions): Promise<{ copies: PlannedCopy[]; exclude: string[] | undefined }> {
  const from0 = options.from0 === true;
  const excludeFrom = options.excludeFrom ?? [];
  checkOneStdinList(excludeFrom, options.filesFrom);
  const listed = excludeFrom.flatMap((file) => excludePatterns(readList('--exclude-from', file), from0));
  const exclude = options.exclude || listed.length > 0 ? [...(options.exclude ?? []), ...listed] : undefined;
  const files = options.filesFrom === undefined ? undefined : listedPaths(readList('--files-from', options.filesFrom), from0);
  const copies = await planCopies(paths, { flat: options.flat === true, files });
  if (copies.length > 1) {
    // Their paths are relative to one source and one destination.
    if (options.log !== undefined || options.manifest !== undefined) {
      throw new FoldercopyError('USAGE', '--log and --manifest take one source: with several sources or --flat, give one run each');
    }
    for (const copy of copies) preflight(copy.source, copy.destination);
  }
  return { copies, exclude };
}

/** A path an entry event gives (relative to its copy's source) as it is in the destination. */
function inDestination(event: EntryEvent, prefix: string): EntryEvent {
  if (prefix === '') return event;
  return { ...event, path: event.path === '.' ? prefix : `${prefix}/${event.path}` };
}

async function run(paths: string[], options: CliOptions): Promise<void> {
  const conflict = outputConflict(options);
  if (conflict) {
    process.stderr.write(`foldercopy: ${conflict} (see foldercopy --help)\n`);
    setExitCode(EXIT_CODES.usage);
    return;
  }
  let copies: PlannedCopy[];
  let exclude: string[] | undefined;
  try {
    ({ copies, exclude } = await plan(paths, options));
  } catch (error) {
    refuse(error, options);
    return;
  }
  const several = copies.length > 1;
  const mode: ProgressMode = options.quiet ? 'off' : progressMode(options.progress, process.stderr.isTTY === true, process.env);
  const showProgress = mode !== 'off';
  const renderer = await createRenderer(process.stderr, mode);
  const controller = new AbortController();
  const entryLog = stdoutLog(options);
  let current = copies[0]!;
  let stoppedBySignal: StopSignal | undefined;
  // A closed terminal or a dropped ssh session (SIGHUP) stops the run as SIGTERM does: lock released, staged copy in place.
  const onSignal = (signal: StopSignal): void => {
    const code = STOP_SIGNALS[signal];
    // A hangup comes twice (the kernel's and the shell's): only a second Ctrl-C or SIGTERM means "now".
    if (stoppedBySignal && signal === 'SIGHUP') return;
    if (stoppedBySignal) {
      // Second signal: leave now. Workers exit on their own when the IPC channel closes.
      renderer.stop();
      entryLog?.close();
      process.stderr.write('foldercopy: stopped at once\n');
      // A first copy left under its staging name: say where, as the next run will adopt it.
      for (const staging of activeStagings()) process.stderr.write(`${stagedCopyLine(pathText(staging))}\n`);
      process.exit(code);
    }
    stoppedBySignal = signal;
    if (!options.quiet) {
      renderer.message(`foldercopy: ${STOPPED_BY[signal]}; finishing files in flight (Ctrl-C again to quit at once)`);
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
          if (showEntries && event.action !== 'fail' && event.type !== 'special' && (showSkips || event.action !== 'skip')) {
            printEntry(entryLine(inDestination(event, current.prefix)));
          }
        }
      : undefined;
  // Said once the copy is done: where the contents went, when that may surprise a cp user.
  const notice = options.quiet || several || current.files || options.snapshot ? undefined : destinationNotice(current.source, current.destination, options.delete === true);
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(signal, onSignal);
  const startedAt = performance.now();
  const summaries: CopySummary[] = [];
  try {
    for (const copy of copies) {
      current = copy;
      const summary = await copyFolder(copy.source, copy.destination, {
        jobs: options.jobs,
        signal: controller.signal,
        onProgress: showProgress ? (progress) => renderer.progress(progress) : undefined,
        onFailure: (failure) => renderer.message(failureLine(failure)),
        onSkip: options.quiet ? undefined : (skip) => renderer.message(skipLine(skip)),
        onWarning: (warning) => renderer.message(warningLine(warning)),
        onEntry,
        files: copy.files,
        exclude,
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
        linkDest: options.linkDest,
        snapshot: options.snapshot,
        keep: options.keep,
      });
      summaries.push(summary);
      if (summary.aborted || summary.stoppedBy) break;
    }
    renderer.stop();
    entryLog?.close();
    const summary = several ? combinedSummary(summaries, paths[paths.length - 1]!, performance.now() - startedAt) : summaries[0]!;
    const exitCode = exitCodeFor(summary, stoppedBySignal);
    const [counts, ...rest] = summaryLines(summary);
    // On a terminal, the summary (about 100 characters) is broken between its fields rather than by the terminal in a number.
    const columns = process.stderr.isTTY ? process.stderr.columns : 0;
    const lines = options.quiet ? rest : [columns > 0 ? wrapFields(counts!, columns - 1) : counts!, ...rest];
    if (notice !== undefined && !summary.aborted) lines.unshift(summary.dryRun ? notice.replace(' went into ', ' would go into ') : notice);
    if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
    if (options.json) process.stdout.write(summaryJson(summary, exitCode, several ? summaries : undefined));
    setExitCode(exitCode);
  } catch (error) {
    renderer.stop();
    entryLog?.close();
    // A source refused once others were copied (another run holds the destination's lock…): what was copied is said too.
    if (error instanceof FoldercopyError && summaries.length > 0 && !options.quiet) {
      process.stderr.write(`${summaryLines(combinedSummary(summaries, paths[paths.length - 1]!, performance.now() - startedAt))[0]}\n`);
    }
    refuse(error, options);
  } finally {
    for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.off(signal, onSignal);
  }
}

/** A refusal: one line, the --json refusal document, exit 2; anything else is a bug. */
function refuse(error: unknown, options: CliOptions): void {
  if (!(error instanceof FoldercopyError)) throw error;
  const worded = new FoldercopyError(error.code, inCliTerms(error.message), error.path);
  process.stderr.write(`${refusalLine(worded)}\n`);
  if (options.json) process.stdout.write(refusalJson(worded, EXIT_CODES.usage));
  setExitCode(EXIT_CODES.usage);
}

const program = new Command()
  .name('foldercopy')
  .description('Copy a folder fast and safely with a pool of worker processes, keeping modes, times, links and owners.')
  .version(version, '-V, --version')
  .usage('[options] <source> [destination]\n       foldercopy [options] <source>... <destination>')
  // Named for what a user must give: an empty command line says `missing required argument 'source'`.
  .argument('<source...>', 'the folder (or file, or glob) to copy, then the destination, where its contents go (default: <source>_copy beside it); with several sources, the last argument is the destination directory')
  .option('-j, --jobs <n>', `worker processes (default: the available CPUs, ${os.availableParallelism()}; at least 8 onto NFS, SMB and FUSE mounts)`, parseJobs)
  .option('--exclude <glob>', 'do not copy entries matching the glob (repeatable)', collect)
  .option('--exclude-from <file>', 'read --exclude patterns from the file, one a line (- for stdin; blank lines and # comments ignored)', collect)
  .option('--include <glob>', 'copy only files matching the glob (repeatable; --exclude wins)', collect)
  .option('--files-from <file>', 'copy only the paths listed in the file, relative to the source, one a line (- for stdin)')
  .option('--from0', 'the --exclude-from and --files-from lists are separated by NUL bytes, not lines')
  .option('--flat', 'copy the files of a glob source or of --files-from into the destination itself, without their directories')
  .option('--gitignore', 'honour .gitignore files at every level of the source')
  .addOption(new Option('--overwrite', 'replace files that differ even where the destination does not look like an earlier copy of the source').conflicts(['checksum', 'ignoreExisting', 'update', 'force']))
  .addOption(new Option('--checksum', 'skip a file only if its content is the same (reads both)').conflicts(['ignoreExisting', 'update', 'force']))
  .addOption(new Option('--ignore-existing', 'never overwrite anything at the destination').conflicts(['update', 'force']))
  .addOption(new Option('-u, --update', 'overwrite only files older than the source').conflicts(['force']))
  .option('--force', 'rewrite every file, even an up-to-date one')
  .option('-n, --dry-run', 'list on stdout what would be created, overwritten and deleted (-vv: skipped too); change nothing')
  .option('--delete', 'delete destination entries that are not in the source (excluded ones are kept), after a successful copy')
  .option('--max-delete <n>', 'with --delete: delete nothing if more than n entries would go', parseCount)
  .option('--link-dest <dir>', 'hard-link a file that <dir> holds unchanged instead of copying it (repeatable, up to 20; relative to the destination)', collect)
  .option('--snapshot', 'make a new dated snapshot in the destination (a directory of snapshots), linked against the newest one, and point <destination>/latest at it')
  .option('--keep <n>', 'with --snapshot: after a successful one, remove the oldest snapshots beyond n', parseCount)
  .option('--no-xattrs', 'do not copy extended attributes, ACLs and file capabilities')
  .option('--verify', 're-read every written file and compare its SHA-256 with the source')
  .option('--manifest <file>', 'write the SHA-256 of every file in the copy, for `sha256sum -c` run in the destination')
  .option('--json', 'print a JSON summary on stdout at the end (nothing else goes to stdout)')
  .option('--log <file>', 'write one JSON line per entry (path, action, type, size, reason) to the file, or to stdout for -')
  .addOption(new Option('-q, --quiet', 'print only errors').conflicts(['verbose']))
  .option('-v, --verbose', 'print one line per entry created, overwritten or deleted, on stdout; -vv: skipped ones too', countVerbosity)
  .option('--progress', 'draw the progress bar on a terminal even in CI or with TERM=dumb')
  .option('--no-progress', 'no progress bar or status lines')
  // cp's and rsync's reflexes, which foldercopy always does: accepted, and ignored.
  .addOption(new Option('-a, --archive').hideHelp())
  .addOption(new Option('-r, --recursive').hideHelp())
  .addHelpText('after', HELP_AFTER)
  .configureOutput({
    // One line with a hint instead of commander's two-line error.
    outputError: (message, write) => write(`${usageErrorLine(message)}\n`),
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
