/**
 * The command line: parses arguments, picks the renderer, runs copyFolder(),
 * prints the summary and sets the exit code. Everything else lives in the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { copyFolder } from './api.js';
import { EXIT_CODES, FoldercopyError } from './errors.js';
import { MAX_JOBS } from './options.js';
import { createRenderer } from './render.js';
import { exitCodeFor, failureLine, skipLine, summaryLines } from './report.js';

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP_AFTER = `
The destination receives the contents of the source, like \`rsync -a src/ dest/\`:
running the same command again never nests a copy inside the copy. Files are
written under a temporary name and renamed into place when complete.

Examples:
  $ foldercopy ./build /mnt/backup/build   copy the contents of ./build into /mnt/backup/build
  $ foldercopy ./photos                    copy to ./photos_copy
  $ foldercopy -j 4 src dest               use 4 worker processes

Exit codes:
  0        everything was copied (special files are skipped with a warning)
  1        some entries failed, or the copy stopped (destination full or read-only)
  2        bad arguments: nothing was copied
  130/143  interrupted by Ctrl-C (SIGINT) / SIGTERM; a partial summary is printed`;

function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!/^\d+$/.test(value) || jobs < 1 || jobs > MAX_JOBS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_JOBS}.`);
  }
  return jobs;
}

async function run(source: string, destination: string | undefined, options: { jobs?: number }): Promise<void> {
  const renderer = await createRenderer(process.stderr);
  const controller = new AbortController();
  let stoppedBySignal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    const code = signal === 'SIGINT' ? EXIT_CODES.interrupted : EXIT_CODES.terminated;
    if (stoppedBySignal) {
      // Second signal: leave now. Workers exit on their own when the IPC channel closes.
      renderer.stop();
      process.stderr.write('foldercopy: stopped at once\n');
      process.exit(code);
    }
    stoppedBySignal = signal;
    renderer.message(`foldercopy: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; finishing files in flight (Ctrl-C again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await copyFolder(source, destination, {
      jobs: options.jobs,
      signal: controller.signal,
      onProgress: (progress) => renderer.progress(progress),
      onFailure: (failure) => renderer.message(failureLine(failure)),
      onSkip: (skip) => renderer.message(skipLine(skip)),
    });
    renderer.stop();
    process.stderr.write(`${summaryLines(summary).join('\n')}\n`);
    process.exitCode = exitCodeFor(summary, stoppedBySignal);
  } catch (error) {
    renderer.stop();
    if (!(error instanceof FoldercopyError)) throw error;
    process.stderr.write(`foldercopy: ${error.message}\n`);
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
