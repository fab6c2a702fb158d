/**
 * One run of the command: from the parsed arguments to the exit code. Reads the
 * lists, picks the renderer, runs copyFolders(), prints the summary.
 */
import { copyFolders, EXIT_CODES, FoldercopyError, type EntryEvent } from '../index.js';
import { inCliTerms, outputConflict, overwritePolicy, type CliOptions } from './arguments.js';
import { wrapFields } from './format.js';
import { checkOneStdinList, excludePatterns, listedPaths, readList } from './lists.js';
import { destinationNotice } from './notice.js';
import { createRenderer, progressMode, type ProgressMode, type Renderer } from './render.js';
import { entryLine, exitCodeFor, itemChanged, itemLine, failureLine, refusalJson, refusalLine, skipLine, summaryJson, summaryLines, warningLine } from './report.js';
import { watchSignals } from './signals.js';
import { setExitCode, StdoutLog } from './stdout.js';

/**
 * Entry lines (-v, -n) are the run's listing and go to stdout, as `rsync -n`'s do,
 * so `foldercopy -n src dest > changes.txt` keeps the listing; status, failures and the
 * summary stay on stderr. When stdout is taken by --json or `--log -`, they stay on
 * stderr. On a terminal with the bar, they print above the bar.
 */
function entryPrinter(options: CliOptions, renderer: Renderer, mode: ProgressMode): (line: string) => void {
  if (options.json || options.log === '-') return (line) => renderer.message(line);
  // The same terminal as the bar's: a line written past the bar would be drawn over.
  if (mode === 'bar' && process.stdout.isTTY) return (line) => renderer.message(line);
  return (line) => process.stdout.write(`${line}\n`);
}

/** What --exclude-from and --files-from add to the options (a list that cannot be read is a refusal). */
function readLists(options: CliOptions): { exclude: string[] | undefined; files: string[] | undefined } {
  const from0 = options.from0 === true;
  const excludeFrom = options.excludeFrom ?? [];
  checkOneStdinList(excludeFrom, options.filesFrom);
  const listed = excludeFrom.flatMap((file) => excludePatterns(readList('--exclude-from', file), from0));
  const exclude = options.exclude || listed.length > 0 ? [...(options.exclude ?? []), ...listed] : undefined;
  const files = options.filesFrom === undefined ? undefined : listedPaths(readList('--files-from', options.filesFrom), from0);
  return { exclude, files };
}

/** The entry callback for -v, -n and `--log -`; undefined when none asks, as an entry event costs the copy a formatted path per entry. */
function entryCallback(options: CliOptions, entryLog: StdoutLog | null, printEntry: (line: string) => void): ((event: EntryEvent) => void) | undefined {
  const verbosity = options.verbose ?? 0;
  const itemize = options.itemizeChanges ?? 0;
  if (itemize > 0 && !options.quiet) return itemCallback(itemize >= 2, entryLog, printEntry);
  const showEntries = (verbosity > 0 || options.dryRun === true) && !options.quiet;
  // What changes, as `rsync -n` lists it; entries left as they were only at -vv.
  const showSkips = verbosity >= 2;
  if (!showEntries && !entryLog) return undefined;
  return (event) => {
    entryLog?.add(event);
    // Failures and special files have lines of their own.
    if (showEntries && event.action !== 'fail' && event.type !== 'special' && (showSkips || event.action !== 'skip')) printEntry(entryLine(event));
  };
}

/** -i: rsync's item lines instead of the entry lines, for what changed (or would); -ii: for every entry. */
function itemCallback(everyEntry: boolean, entryLog: StdoutLog | null, printEntry: (line: string) => void): (event: EntryEvent) => void {
  return (event) => {
    entryLog?.add(event);
    if (event.changes !== undefined && (everyEntry || itemChanged(event.changes))) printEntry(itemLine(event));
  };
}

export async function run(paths: string[], options: CliOptions): Promise<void> {
  const conflict = outputConflict(options);
  if (conflict) {
    process.stderr.write(`foldercopy: ${conflict} (see foldercopy --help)\n`);
    setExitCode(EXIT_CODES.usage);
    return;
  }
  let lists: ReturnType<typeof readLists>;
  try {
    lists = readLists(options);
  } catch (error) {
    refuse(error, options);
    return;
  }
  // The last of several arguments is the destination.
  const sources = paths.length > 1 ? paths.slice(0, -1) : paths;
  const destination = paths.length > 1 ? paths[paths.length - 1] : undefined;
  const mode: ProgressMode = options.quiet ? 'off' : progressMode(options.progress, process.stderr.isTTY === true, process.env);
  const renderer = await createRenderer(process.stderr, mode);
  const controller = new AbortController();
  const entryLog = options.log === '-' ? new StdoutLog(process.stdout) : null;
  const closeOutputs = (): void => {
    renderer.stop();
    entryLog?.close();
  };
  const signals = watchSignals({ controller, say: options.quiet ? undefined : (line) => renderer.message(line), beforeExit: closeOutputs });
  // Said once the copy is done: where the contents went, when that may surprise a cp user. One source, a directory (no glob, no list).
  const oneTree = !options.quiet && sources.length === 1 && lists.files === undefined && options.snapshot !== true;
  const notice = oneTree ? destinationNotice(sources[0]!, destination, options.delete === true) : undefined;
  try {
    const summary = await copyFolders(sources, destination, {
      jobs: options.jobs,
      signal: controller.signal,
      onProgress: mode === 'off' ? undefined : (progress) => renderer.progress(progress),
      onFailure: (failure) => renderer.message(failureLine(failure)),
      onSkip: options.quiet ? undefined : (skip) => renderer.message(skipLine(skip)),
      onWarning: (warning) => renderer.message(warningLine(warning)),
      onEntry: entryCallback(options, entryLog, entryPrinter(options, renderer, mode)),
      files: lists.files,
      flat: options.flat === true,
      // `--log -` is the command's own log (the library's is a file): refused with several copies as the file is.
      onCopies: (copies) => {
        if (copies.length > 1 && entryLog) throw new FoldercopyError('USAGE', 'the log option and the manifest option take one source: with several sources or the flat option, give one run each');
      },
      exclude: lists.exclude,
      include: options.include,
      gitignore: options.gitignore,
      overwrite: overwritePolicy(options),
      dryRun: options.dryRun,
      itemize: options.itemizeChanges !== undefined,
      verify: options.verify,
      modifyWindow: options.modifyWindow,
      oneFileSystem: options.oneFileSystem,
      backup: options.backup,
      backupDir: options.backupDir,
      suffix: options.suffix,
      manifest: options.manifest,
      log: entryLog ? undefined : options.log,
      delete: options.delete,
      maxDelete: options.maxDelete,
      xattrs: options.xattrs,
      linkDest: options.linkDest,
      snapshot: options.snapshot,
      keep: options.keep,
    });
    closeOutputs();
    const exitCode = exitCodeFor(summary, signals.stoppedBy);
    const [counts, ...rest] = summaryLines(summary, { quiet: options.quiet === true });
    // On a terminal, the summary (about 100 characters) is broken between its fields rather than by the terminal in a number.
    const columns = process.stderr.isTTY ? process.stderr.columns : 0;
    const lines = options.quiet ? rest : [columns > 0 ? wrapFields(counts!, columns - 1) : counts!, ...rest];
    if (notice !== undefined && !summary.aborted) lines.unshift(summary.dryRun ? notice.replace(' went into ', ' would go into ') : notice);
    if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
    if (options.json) process.stdout.write(summaryJson(summary, exitCode, summary.copies.length > 1 ? summary.copies : undefined));
    setExitCode(exitCode);
  } catch (error) {
    closeOutputs();
    // A source refused once others were copied (another run holds the destination's lock…): what was copied is said too.
    if (error instanceof FoldercopyError && error.copied && !options.quiet) process.stderr.write(`${summaryLines(error.copied)[0]}\n`);
    refuse(error, options);
  } finally {
    signals.release();
  }
}

/** A refusal: one line, the --json refusal document, exit 2; anything else is a bug. */
export function refuse(error: unknown, options: CliOptions): void {
  if (!(error instanceof FoldercopyError)) throw error;
  const worded = new FoldercopyError(error.code, inCliTerms(error.message), error.path);
  process.stderr.write(`${refusalLine(worded)}\n`);
  if (options.json) process.stdout.write(refusalJson(worded, EXIT_CODES.usage));
  setExitCode(EXIT_CODES.usage);
}
