/**
 * The program: the command's options and --help, and what ends it (a usage
 * error, or a bug). One run is run.ts; the library does the rest.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_MAX_PART_FILES, EXIT_CODES, MAX_PARTS } from '../index.js';
import { collect, countVerbosity, parseCount, parseJobs, parseShardArgument, type CliOptions } from './arguments.js';
import { usageErrorLine } from './habits.js';
import { HELP_AFTER } from './help.js';
import { run } from './run.js';
import { watchStdout } from './stdout.js';

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

watchStdout();

const program = new Command()
  .name('foldercopy')
  .description('Copy a folder fast and safely with a pool of worker processes, keeping modes, times, links and owners.')
  .version(version, '-V, --version')
  .usage(
    '[options] <source> [destination]\n       foldercopy [options] <source>... <destination>\n' +
      '       foldercopy [options] <source> <destination> --make-plan <dir> --parts <p>\n       foldercopy --plan <dir> [--part <k>]\n' +
      '       foldercopy --plan <dir> --finalize | --check [--checksum]',
  )
  // Optional for --plan, which takes none; otherwise the action says `missing required argument 'source'`, as commander would.
  .argument('[source...]', 'the folder (or file, or glob) to copy, then the destination, where its contents go (default: <source>_copy beside it); with several sources, the last argument is the destination directory')
  .option('-j, --jobs <n>', `worker processes (default: the available CPUs, ${os.availableParallelism()}; at least 8 onto NFS, SMB and FUSE mounts)`, parseJobs)
  .option('--exclude <glob>', 'do not copy entries matching the glob (repeatable)', collect)
  .option('--exclude-from <file>', 'read --exclude patterns from the file, one a line (- for stdin; blank lines and # comments ignored)', collect)
  .option('--include <glob>', 'copy only files matching the glob (repeatable; --exclude wins)', collect)
  .option('--files-from <file>', 'copy only the paths listed in the file, relative to the source, one a line (- for stdin)')
  .option('--from0', 'the --exclude-from and --files-from lists are separated by NUL bytes, not lines')
  .option('--flat', 'copy the files of a glob source or of --files-from into the destination itself, without their directories')
  .option('--gitignore', 'honour .gitignore files at every level of the source')
  .option('--shard <k/n>', "copy only shard k of n (0 <= k < n) of the files, by rclone's --hash-filter rule; every directory is made (for CI matrices)", parseShardArgument)
  .addOption(new Option('--overwrite', 'replace files that differ even where the destination does not look like an earlier copy of the source').conflicts(['checksum', 'ignoreExisting', 'update', 'force']))
  .addOption(new Option('--checksum', 'skip a file only if its content is the same (reads both)').conflicts(['ignoreExisting', 'update', 'force']))
  .addOption(new Option('--ignore-existing', 'never overwrite anything at the destination').conflicts(['update', 'force']))
  .addOption(new Option('-u, --update', 'overwrite only files older than the source').conflicts(['force']))
  .option('--force', 'rewrite every file, even an up-to-date one')
  .option('--modify-window <seconds>', 'count modification times this many seconds apart as the same (1 for FAT; default 0: exact)', parseCount)
  .option('-x, --one-file-system', 'do not enter directories on other file systems (mount points): make them, empty')
  .option('-b, --backup', 'keep each file or symlink the run replaces or deletes aside, as <name>~ (see --suffix)')
  .option('--backup-dir <dir>', 'keep them in this directory instead, at their relative paths (relative to the destination; implies --backup)')
  .option('--suffix <s>', 'the backup suffix (default ~, or none in a --backup-dir)')
  .option('-n, --dry-run', 'list on stdout what would be created, overwritten and deleted (-vv: skipped too); change nothing')
  .option('--delete', 'delete destination entries that are not in the source (excluded ones are kept), after a successful copy')
  .option('--max-delete <n>', 'with --delete: delete nothing if more than n entries would go', parseCount)
  .option('--link-dest <dir>', 'hard-link a file that <dir> holds unchanged instead of copying it (repeatable, up to 20; relative to the destination)', collect)
  .option('--snapshot', 'make a new dated snapshot in the destination (a directory of snapshots), linked against the newest one, and point <destination>/latest at it')
  .option('--keep <n>', 'with --snapshot: after a successful one, remove the oldest snapshots beyond n', parseCount)
  .option('--no-xattrs', 'do not copy extended attributes, ACLs and file capabilities')
  .option('--verify', 'read every written and up-to-date file back from the disk (flushed, its cached pages dropped) and compare its SHA-256 with the source')
  .option('--manifest <file>', 'write the SHA-256 of every file in the copy, for `sha256sum -c` run in the destination; with <file>.foldercopy-state beside it, a re-run hashes only what changed')
  .option('--json', 'print a JSON summary on stdout at the end (nothing else goes to stdout)')
  .option('--log <file>', 'write one JSON line per entry (path, action, type, size, reason) to the file, or to stdout for -')
  .addOption(new Option('-q, --quiet', 'print only errors').conflicts(['verbose']))
  .option('-v, --verbose', 'print one line per entry created, overwritten or deleted, on stdout; -vv: skipped ones too', countVerbosity)
  .option('-i, --itemize-changes', "print rsync's change line per entry changed (>f.st...... path), on stdout, instead of -v's; -ii: every entry", countVerbosity)
  .option('--progress', 'draw the progress bar on a terminal even in CI or with TERM=dumb')
  .option('--no-progress', 'no progress bar or status lines')
  .option('--make-plan <dir>', 'do not copy: plan the copy into <dir> for parts that run as separate tasks (see Copying in parts below)')
  .option('--parts <p>', `with --make-plan: how many parts (1 to ${MAX_PARTS})`, parseCount)
  .option('--max-part-files <n>', `with --make-plan: the most files in one part (default ${DEFAULT_MAX_PART_FILES}); refused if --parts is too few for it`, parseCount)
  .option('--plan <dir>', "copy one part of the plan in <dir>, or with --finalize or --check, that step of it: no source, destination or copy options (they are the plan's)")
  .option('--part <k>', 'with --plan: the part, from 0 (default: from JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, or PARALLEL_SEQ - 1)', parseCount)
  .option('--finalize', 'with --plan: once every part ran, make the planned directories, give them their modes and times, delete what the plan does not list (if planned with --delete), release the lock')
  .option('--check', 'with --plan: prove the copy complete (exit 0), incomplete (3), mismatched (4) or its source changed since planning (5); with --checksum, compare contents too')
  // cp's and rsync's reflexes, which foldercopy always does: accepted, and ignored.
  .addOption(new Option('-a, --archive').hideHelp())
  .addOption(new Option('-r, --recursive').hideHelp())
  .addHelpText('after', HELP_AFTER)
  .configureOutput({
    // One line with a hint instead of commander's two-line error.
    outputError: (message, write) => write(`${usageErrorLine(message)}\n`),
  })
  .exitOverride()
  .action(async (paths: string[], options: CliOptions) => {
    // Loaded only for a planned copy: an ordinary run's start-up does not parse them.
    if (options.finalize || options.check) return (await import('./plan-steps.js')).planStep(paths, options);
    if (options.makePlan !== undefined || options.plan !== undefined) return (await import('./planned.js')).runPlanned(paths, options);
    const planOnly = options.parts !== undefined ? '--parts' : options.maxPartFiles !== undefined ? '--max-part-files' : options.part !== undefined ? '--part' : undefined;
    if (planOnly) program.error(`error: ${planOnly} is for a planned copy: give it with ${planOnly === '--part' ? '--plan' : '--make-plan'}`);
    if (paths.length === 0) program.error("error: missing required argument 'source'");
    return run(paths, options);
  });

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
