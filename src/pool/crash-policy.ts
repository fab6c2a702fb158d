/**
 * What a worker's exit means for its jobs and for the run: decided here from
 * what the pool saw, with no process or timer, so every rule has a unit test.
 * A dead worker loses only its unconfirmed jobs, and each is retried once,
 * alone, so one poison file cannot take a batch of good ones with it; a job
 * that kills a worker twice fails. A worker that cannot start, or workers that
 * keep dying, stop the run instead of respawning in a loop.
 */
import type { ErrorRecord } from '../shared/errors.js';
import type { Job } from '../shared/jobs.js';
import { joinRaw, rawFromString, type RawPath } from '../shared/raw-path.js';
import type { Batch, WorkerState } from './worker-process.js';

// Crashes in a row, with no job finished in between: a few OOM kills or poison files pass,
// a worker that dies on everything stops the run quickly.
const MAX_CRASHES_IN_A_ROW = 8;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The state it left, which tells a requested exit ('stopping') and a start-up failure ('starting') from a crash. */
  before: WorkerState;
  /** Its batches in the order sent: only the first had started. */
  inFlight: readonly Batch[];
  /** The error line, or else the last line, it wrote to stderr. */
  lastWords: string;
  /** All it wrote to stderr lately: what a worker that could not start has to say. */
  output: string;
}

export interface PoolFacts {
  /** Still dispatching: neither closing nor stopped. */
  open: boolean;
  /** A worker of this pool was ready once: the install can start one. */
  someWorkerWasReady: boolean;
  crashesInARow: number;
  /** What the failures name: the source root, and the worker's script when it cannot start. */
  source: RawPath;
  workerPath: string;
}

export type Verdict =
  /** Asked to leave, or the pool is ending anyway: nothing to retry or report. */
  | { kind: 'expected' }
  /** The install is broken: stop the run. */
  | { kind: 'cannotStart'; error: ErrorRecord }
  | {
      kind: 'crashed';
      crashesInARow: number;
      /** Jobs that killed a worker twice: each fails. */
      failed: Array<{ job: Job; error: ErrorRecord }>;
      /** Jobs to run again, each alone, ahead of the queue. */
      retries: Job[];
      /** Batches it held but had not started, sent again whole, after the retries. */
      resent: Batch[];
      /** Workers keep dying: once the above is done, stop the run. */
      stop: ErrorRecord | null;
    };

export function judgeExit(exit: WorkerExit, pool: PoolFacts): Verdict {
  const { code, signal, before, inFlight } = exit;
  if (before === 'stopping' || !pool.open) return { kind: 'expected' };
  const how = signal ? `was killed by ${signal}` : code === null ? 'could not be started' : `exited with code ${code}`;
  // Only a worker that exits on its own before any worker was ever ready says the install is broken;
  // one killed by a signal while booting (the OOM killer, a user) is a crash like any other.
  if (before === 'starting' && !pool.someWorkerWasReady && signal === null) {
    const message = `a worker process could not start: it ${how}${exit.output ? `\n${exit.output}` : ''}`;
    return { kind: 'cannotStart', error: { code: 'WORKER_START', message, operation: 'worker', path: rawFromString(pool.workerPath) } };
  }
  const why = `${how}${exit.lastWords ? ` (${exit.lastWords})` : ''}`;
  const started = inFlight[0];
  const unconfirmed = started ? started.jobs.slice(started.confirmed) : [];
  const crashesInARow = pool.crashesInARow + 1;
  const failure = (message: string, path: RawPath): ErrorRecord => ({ code: 'WORKER_CRASHED', message, operation: 'worker', path });
  return {
    kind: 'crashed',
    crashesInARow,
    failed: started?.retry ? unconfirmed.map((job) => ({ job, error: failure(`the worker copying it ${why}, twice`, joinRaw(pool.source, job.path)) })) : [],
    retries: started?.retry ? [] : unconfirmed,
    resent: inFlight.slice(1),
    stop: crashesInARow > MAX_CRASHES_IN_A_ROW ? failure(`worker processes keep dying (the last one ${why}); stopping`, pool.source) : null,
  };
}
