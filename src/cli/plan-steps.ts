/**
 * The steps of a planned copy that run once, after its parts: `--plan PLAN
 * --finalize` and `--plan PLAN --check`. Their lines and exit codes: a
 * finalize prints what it could not do and one summary line (exit 0 when
 * finalized, 1 otherwise); a check prints one line per problem (the first 20,
 * then how many more) and one summary line, and exits with the status's code:
 * 0 complete, 3 incomplete, 4 mismatched, 5 source changed since planning.
 */
import { checkPlan, EXIT_CODES, finalizePlan, FoldercopyError, type CheckProblemCode, type CheckReport, type FinalizeSummary } from '../index.js';
import { inCliTerms, type CliOptions } from './arguments.js';
import { displayText, formatCount } from './format.js';
import { failureLine } from './report.js';
import { refuse } from './run.js';
import { setExitCode } from './stdout.js';

const MAX_PROBLEM_LINES = 20;

/** What each step takes besides --plan: the plan fixed everything else. */
const STEP_OPTIONS: Readonly<Record<'finalize' | 'check', readonly string[]>> = {
  finalize: ['maxDelete'],
  check: ['checksum'],
};
const OUTPUT_OPTIONS = ['plan', 'finalize', 'check', 'quiet', 'json', 'progress', 'verbose'];

const LABELS: Readonly<Record<CheckProblemCode, string>> = {
  'source-added': 'added to the source since planning',
  'source-removed': 'removed from the source since planning',
  'source-changed': 'changed in the source since planning',
  'recorded-twice': 'recorded twice',
  'not-planned': 'recorded outside the plan',
  'destination-missing': 'missing at the destination',
  'destination-differs': 'differs at the destination',
  'part-missing': 'part not finished',
  'entry-missing': 'not copied',
  'entry-failed': 'failed to copy',
  'planning-failed': 'could not be planned',
  'not-finalized': 'not finalized',
};

const EXIT_FOR: Readonly<Record<CheckReport['status'], number>> = {
  complete: EXIT_CODES.success,
  incomplete: EXIT_CODES.incomplete,
  mismatched: EXIT_CODES.mismatched,
  'source-changed': EXIT_CODES.sourceChanged,
};

/** `--plan PLAN` with --finalize or --check. */
export async function planStep(paths: string[], options: CliOptions): Promise<void> {
  const conflict = stepConflict(paths, options);
  if (conflict !== undefined) {
    process.stderr.write(`foldercopy: ${conflict} (see foldercopy --help)\n`);
    setExitCode(EXIT_CODES.usage);
    return;
  }
  try {
    if (options.finalize) printFinalize(await finalizePlan(options.plan!, { maxDelete: options.maxDelete }), options);
    else printCheck(await checkPlan(options.plan!, { checksum: options.checksum === true }), options);
  } catch (error) {
    if (!(error instanceof FoldercopyError)) throw error;
    refuse(error, options);
  }
}

/** One line saying what is wrong with the command line of a step, or undefined. */
function stepConflict(paths: readonly string[], options: CliOptions): string | undefined {
  if (options.plan === undefined) return `${options.finalize ? '--finalize' : '--check'} needs --plan <dir>, the plan it is the step of`;
  if (options.finalize && options.check) return '--finalize and --check are two steps: run --finalize, then --check';
  if (paths.length > 0) return `--plan takes no source or destination: they are in the plan (${displayText(paths[0]!)} given)`;
  const allowed = new Set([...OUTPUT_OPTIONS, ...STEP_OPTIONS[options.finalize ? 'finalize' : 'check']]);
  // --no-xattrs's option is true unless it is given.
  const fixed = Object.keys(options).filter((name) => !allowed.has(name) && !(name === 'xattrs' && options.xattrs === true));
  if (fixed.length === 0) return undefined;
  const flag = fixed[0] === 'xattrs' ? '--no-xattrs' : `--${fixed[0]!.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
  return `${flag} is fixed when the plan is made, not given to ${options.finalize ? '--finalize' : '--check'}`;
}

function printFinalize(summary: FinalizeSummary, options: CliOptions): void {
  const lines = summary.failures.map(failureLine);
  if (summary.deletionSkipped !== undefined) lines.push(`foldercopy: deleted nothing: ${displayText(inCliTerms(summary.deletionSkipped))}`);
  if (!options.quiet || !summary.finalized) lines.push(finalizeLine(summary));
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  const exitCode = summary.finalized ? EXIT_CODES.success : EXIT_CODES.someFailed;
  if (options.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, status: summary.finalized ? 'finalized' : 'unfinished', exitCode, ...summary }, null, 2)}\n`);
  setExitCode(exitCode);
}

function finalizeLine(summary: FinalizeSummary): string {
  const made = summary.made > 0 ? ` (${formatCount(summary.made)} made)` : '';
  const what = `${formatCount(summary.directories)} ${summary.directories === 1 ? 'directory' : 'directories'}${made}, ${formatCount(summary.deleted)} deleted${backedUp(summary.backedUp)}${swept(summary.swept)}`;
  if (!summary.finalized) return `foldercopy: plan ${summary.plan} not finalized (${what}); fix what is said above and run --finalize again`;
  return `foldercopy: finalized plan ${summary.plan}: ${what}; ${summary.lockReleased ? 'its lock released' : 'no lock of its own was held'}`;
}

function backedUp(count: number): string {
  return count === 0 ? '' : ` (${formatCount(count)} kept as ${count === 1 ? 'a backup' : 'backups'})`;
}

function swept(count: number): string {
  return count === 0 ? '' : `, ${formatCount(count)} temporary ${count === 1 ? 'file' : 'files'} of killed parts removed`;
}

function printCheck(report: CheckReport, options: CliOptions): void {
  const { problems, parts, entries } = report;
  const lines = problems.slice(0, MAX_PROBLEM_LINES).map((problem) => `foldercopy: ${LABELS[problem.code]}: ${displayText(problem.path)}: ${displayText(problem.detail)}`);
  if (problems.length > MAX_PROBLEM_LINES) lines.push(`foldercopy: and ${formatCount(problems.length - MAX_PROBLEM_LINES)} more`);
  if (!options.quiet || report.status !== 'complete') {
    const missing = parts.missing.length > 0 ? ` (missing: ${parts.missing.slice(0, 10).join(', ')}${parts.missing.length > 10 ? ', …' : ''})` : '';
    lines.push(
      `foldercopy: check: ${report.status}: ${formatCount(parts.recorded)} of ${formatCount(parts.planned)} parts recorded${missing}; ` +
        `${formatCount(entries.planned)} entries planned: ${formatCount(entries.copied)} copied, ${formatCount(entries.kept)} kept, ${formatCount(entries.failed)} failed, ` +
        `${formatCount(entries.missing)} missing, ${formatCount(entries.extra)} extra, ${formatCount(entries.mismatched)} mismatched`,
    );
  }
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  setExitCode(EXIT_FOR[report.status]);
}
