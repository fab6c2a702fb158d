// Which part a run copies (src/parts/part-index.ts): --part, else the scheduler's index from the
// environment, first found of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, PARALLEL_SEQ (1-based).
import { describe, expect, it } from 'vitest';
import { partIndex } from '../../src/parts/part-index.js';
import { FoldercopyError } from '../../src/shared/errors.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FoldercopyError);
    expect((error as FoldercopyError).code).toBe('USAGE');
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('partIndex', () => {
  it('takes --part as given, 0-based, before any environment', () => {
    expect(partIndex({ given: 0, env: { JOB_COMPLETION_INDEX: '3' }, parts: 4 })).toBe(0);
    expect(partIndex({ given: 3, env: {}, parts: 4 })).toBe(3);
  });

  it('reads each scheduler variable; PARALLEL_SEQ counts from 1', () => {
    expect(partIndex({ given: undefined, env: { JOB_COMPLETION_INDEX: '2' }, parts: 4 })).toBe(2);
    expect(partIndex({ given: undefined, env: { SLURM_ARRAY_TASK_ID: '0' }, parts: 4 })).toBe(0);
    expect(partIndex({ given: undefined, env: { PARALLEL_SEQ: '1' }, parts: 4 })).toBe(0);
    expect(partIndex({ given: undefined, env: { PARALLEL_SEQ: '4' }, parts: 4 })).toBe(3);
  });

  it('takes the first found, in that order; an empty variable is not found', () => {
    expect(partIndex({ given: undefined, env: { PARALLEL_SEQ: '1', SLURM_ARRAY_TASK_ID: '2', JOB_COMPLETION_INDEX: '3' }, parts: 4 })).toBe(3);
    expect(partIndex({ given: undefined, env: { PARALLEL_SEQ: '1', SLURM_ARRAY_TASK_ID: '2' }, parts: 4 })).toBe(2);
    expect(partIndex({ given: undefined, env: { JOB_COMPLETION_INDEX: '', PARALLEL_SEQ: '2' }, parts: 4 })).toBe(1);
  });

  it('refuses a part the plan does not have, saying the range', () => {
    expect(refusal(() => partIndex({ given: 4, env: {}, parts: 4 }))).toBe('there is no part 4: the plan has 4 parts, 0 to 3');
    expect(refusal(() => partIndex({ given: undefined, env: { SLURM_ARRAY_TASK_ID: '4' }, parts: 4 }))).toBe('SLURM_ARRAY_TASK_ID=4 names no part: the plan has 4 parts, 0 to 3');
    expect(refusal(() => partIndex({ given: undefined, env: { PARALLEL_SEQ: '0' }, parts: 1 }))).toBe(
      'PARALLEL_SEQ=0 names no part: the plan has 1 part, 0 to 0 (PARALLEL_SEQ counts from 1)',
    );
    expect(refusal(() => partIndex({ given: undefined, env: { JOB_COMPLETION_INDEX: '-1' }, parts: 4 }))).toMatch(/^JOB_COMPLETION_INDEX=-1 names no part/);
    expect(refusal(() => partIndex({ given: undefined, env: { JOB_COMPLETION_INDEX: '1x' }, parts: 4 }))).toMatch(/^JOB_COMPLETION_INDEX=1x names no part/);
  });

  it('refuses when there is no part at all, naming the ways to give one', () => {
    expect(refusal(() => partIndex({ given: undefined, env: {}, parts: 2 }))).toBe(
      'no part given: give --part K (0 to 1), or run under a scheduler that sets one of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, PARALLEL_SEQ',
    );
  });
});
