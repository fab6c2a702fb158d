/**
 * Which part of a plan this run copies: --part K, or the index the scheduler
 * gives each task in its environment, so that one command line serves every
 * task of a Kubernetes Indexed Job, a Slurm array or GNU parallel. Pure.
 */
import { FoldercopyError } from '../shared/errors.js';

/** The variables read, first found wins, and what to subtract for a 0-based part. */
const SCHEDULER_INDEXES: ReadonlyArray<{ name: string; base: number }> = [
  // Kubernetes Indexed Job: 0-based.
  { name: 'JOB_COMPLETION_INDEX', base: 0 },
  // Slurm: as the array was given; the README says --array=0-(P-1).
  { name: 'SLURM_ARRAY_TASK_ID', base: 0 },
  // GNU parallel: the job's sequence number, 1-based.
  { name: 'PARALLEL_SEQ', base: 1 },
];

export interface PartIndexFrom {
  /** --part, or the library's argument; undefined: from the environment. */
  given: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** How many parts the plan has. */
  parts: number;
}

/** The 0-based part to copy; a USAGE refusal when there is none or it is not one of the plan's. */
export function partIndex({ given, env, parts }: PartIndexFrom): number {
  const range = `the plan has ${parts} ${parts === 1 ? 'part' : 'parts'}, 0 to ${parts - 1}`;
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0 || given >= parts) throw new FoldercopyError('USAGE', `there is no part ${String(given)}: ${range}`);
    return given;
  }
  for (const { name, base } of SCHEDULER_INDEXES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const k = /^\d{1,9}$/.test(value) ? Number(value) - base : -1;
    if (k < 0 || k >= parts) throw new FoldercopyError('USAGE', `${name}=${value} names no part: ${range}${base === 1 ? ` (${name} counts from 1)` : ''}`);
    return k;
  }
  const names = SCHEDULER_INDEXES.map(({ name }) => name).join(', ');
  throw new FoldercopyError('USAGE', `no part given: give --part K (0 to ${parts - 1}), or run under a scheduler that sets one of ${names}`);
}
