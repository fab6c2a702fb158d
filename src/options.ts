/** Option defaults and validation shared by the API and the CLI. */
import os from 'node:os';

// Far beyond any benefit; a typo such as -j 1000 should not fork a thousand processes.
export const MAX_JOBS = 64;

export function resolveJobs(jobs: number | undefined): number {
  if (jobs === undefined) return os.availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    throw new RangeError(`jobs must be an integer from 1 to ${MAX_JOBS}, got ${jobs}`);
  }
  return jobs;
}
