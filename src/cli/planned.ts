/**
 * The command line of a planned copy (README "Copying in parts"): --make-plan
 * writes the plan, --plan with a part copies that part. A part takes its
 * source, destination and copy options from the plan: given any here, it is
 * refused (exit 2), since parts copying by different options would not make
 * one copy. Only how a part runs and reports may differ.
 */
import { copyPart, EXIT_CODES, FoldercopyError, makePlan, type PlanSummary } from '../index.js';
import { overwritePolicy, type CliOptions } from './arguments.js';
import { displayText, formatBytes, formatCount } from './format.js';
import { failureLine, warningLine } from './report.js';
import { readLists, refuse, runWithOutputs } from './run.js';
import { setExitCode } from './stdout.js';

/** What a part run may be given besides --plan and --part: how it runs and reports (-a and -r are no-ops anywhere). */
const PART_RUN_OPTIONS: ReadonlySet<string> = new Set(['plan', 'part', 'quiet', 'verbose', 'json', 'log', 'progress', 'jobs', 'archive', 'recursive']);

/** A planned copy's command line: planning (--make-plan) or one part (--plan). */
export async function runPlanned(paths: string[], options: CliOptions): Promise<void> {
  if (options.makePlan !== undefined) await runMakePlan(paths, options, options.makePlan);
  else await runPart(paths, options, options.plan!);
}

async function runMakePlan(paths: string[], options: CliOptions, plan: string): Promise<void> {
  const misplaced = options.plan !== undefined ? '--plan' : options.part !== undefined ? '--part' : options.flat ? '--flat' : undefined;
  if (misplaced) return usage(`${misplaced} cannot be given with --make-plan`, options);
  if (options.parts === undefined) return usage('--make-plan needs --parts P: how many parts (tasks) to split the copy into', options);
  if (paths.length > 2) return usage('--make-plan plans one source into one destination', options);
  try {
    const lists = readLists(options);
    const summary = await makePlan(paths[0]!, paths[1], {
      plan,
      parts: options.parts,
      maxPartFiles: options.maxPartFiles,
      exclude: lists.exclude,
      include: options.include,
      gitignore: options.gitignore,
      files: lists.files,
      overwrite: overwritePolicy(options),
      modifyWindow: options.modifyWindow,
      oneFileSystem: options.oneFileSystem,
      xattrs: options.xattrs,
      verify: options.verify,
      delete: options.delete,
      maxDelete: options.maxDelete,
      backup: options.backup,
      backupDir: options.backupDir,
      suffix: options.suffix,
      // Refused by makePlan, naming them: nothing a part does could honour them.
      dryRun: options.dryRun,
      itemize: options.itemizeChanges === undefined ? undefined : true,
      manifest: options.manifest,
      log: options.log,
      linkDest: options.linkDest,
      snapshot: options.snapshot,
      keep: options.keep,
      onFailure: (failure) => process.stderr.write(`${failureLine(failure)}\n`),
      onWarning: (warning) => process.stderr.write(`${warningLine(warning)}\n`),
    });
    const exitCode = summary.failures.length > 0 ? EXIT_CODES.someFailed : EXIT_CODES.success;
    if (!options.quiet || exitCode !== EXIT_CODES.success) process.stderr.write(`${planLines(summary).join('\n')}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, status: exitCode === EXIT_CODES.success ? 'ok' : 'failed', exitCode, ...summary })}\n`);
    setExitCode(exitCode);
  } catch (error) {
    refuse(error, options);
  }
}

function planLines({ plan, parts, totals, failures }: PlanSummary): string[] {
  const counts = [
    `${formatCount(totals.files)} ${totals.files === 1 ? 'file' : 'files'}`,
    `${formatCount(totals.directories)} ${totals.directories === 1 ? 'directory' : 'directories'}`,
    `${formatCount(totals.symlinks)} ${totals.symlinks === 1 ? 'symlink' : 'symlinks'}`,
  ];
  if (totals.other > 0) counts.push(`${formatCount(totals.other)} special ${totals.other === 1 ? 'file' : 'files'}`);
  return [
    `foldercopy: planned ${counts.join(', ')}, ${formatBytes(totals.bytes)} in ${formatCount(parts)} ${parts === 1 ? 'part' : 'parts'}: ${displayText(plan)}; ${formatCount(failures.length)} failed`,
    `foldercopy: copy each part with: foldercopy --plan ${displayText(plan)} --part K (K from 0 to ${parts - 1}), then --finalize`,
  ];
}

async function runPart(paths: string[], options: CliOptions, plan: string): Promise<void> {
  if (paths.length > 0) return usage('--plan takes no source or destination: they are in the plan', options);
  const fixed = Object.entries(options).find(([name, value]) => !PART_RUN_OPTIONS.has(name) && value !== undefined && !(name === 'xattrs' && value === true));
  if (fixed) return usage(`${flagOf(fixed[0], fixed[1])} cannot be given to a part: options are fixed at planning (give them to --make-plan)`, options);
  await runWithOutputs(options, undefined, async (outputs) => {
    const summary = await copyPart(plan, options.part, outputs);
    return { ...summary, copies: [summary] };
  });
}

/** The flag a parsed option came from: --max-part-files for maxPartFiles, --no-xattrs for xattrs false. */
function flagOf(name: string, value: unknown): string {
  const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
  return value === false ? flag.replace(/^--/, '--no-') : flag;
}

function usage(message: string, options: CliOptions): void {
  refuse(new FoldercopyError('USAGE', message), options);
  setExitCode(EXIT_CODES.usage);
}
