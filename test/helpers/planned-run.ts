/**
 * A planned copy run step by step by the real CLI, as a scheduler runs it: --make-plan, every part,
 * --finalize; then whatever the test checks. Each step's result is returned for the test to judge.
 */
import path from 'node:path';
import { runCli, type RunOptions, type RunResult } from './run-cli.js';

const RUN_TIMEOUT_MS = 60_000;
/** No scheduler's index leaks in from the environment the tests run in. */
const NO_INDEX = { JOB_COMPLETION_INDEX: undefined, SLURM_ARRAY_TASK_ID: undefined, PARALLEL_SEQ: undefined };

export interface PlannedRun {
  source: string;
  destination: string;
  plan: string;
  parts: number;
}

/** One run of the CLI with the environment of a scheduler's task (no index set). */
export function planCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCli([...args], { timeoutMs: RUN_TIMEOUT_MS, ...options, env: { ...NO_INDEX, ...options.env } });
}

/** `--make-plan` of `source` into `destination` in `parts` parts, in `root`/plan, with the copy options `extra`. */
export async function makePlan(root: string, { source, destination, parts, extra = [], runAs }: { source: string; destination: string; parts: number; extra?: readonly string[]; runAs?: RunOptions }): Promise<{ run: PlannedRun; made: RunResult }> {
  const plan = path.join(root, 'plan');
  const made = await planCli([source, destination, '--make-plan', plan, '--parts', String(parts), ...extra], runAs);
  return { run: { source, destination, plan, parts }, made };
}

/** Every part, one after the other; their results by index. */
export async function runParts(run: PlannedRun, runAs: RunOptions = {}): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let k = 0; k < run.parts; k++) results.push(await planCli(['-q', '--plan', run.plan, '--part', String(k)], runAs));
  return results;
}

export function finalize(run: PlannedRun, args: readonly string[] = [], runAs: RunOptions = {}): Promise<RunResult> {
  return planCli(['--plan', run.plan, '--finalize', ...args], runAs);
}

export function check(run: PlannedRun, args: readonly string[] = [], runAs: RunOptions = {}): Promise<RunResult> {
  return planCli(['--plan', run.plan, '--check', ...args], runAs);
}
