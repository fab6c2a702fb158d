/**
 * The worker pool wired for this copy: what the pool itself does not know of
 * files. Each batch's message carries the roots and the worker settings; a dead
 * worker's half-written files are swept; and the parent runs batches itself
 * with the workers' code until a forked worker is ready.
 */
import { isMainThread } from 'node:worker_threads';
import { sweepDeadWorkerFiles } from '../destination/dead-worker-files.js';
import { WorkerPool } from '../pool/pool.js';
import type { Job, WorkerSettings } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { onNetworkFileSystem } from '../shared/file-systems.js';
import { fsPath, rawFromString, type RawPath } from '../shared/raw-path.js';
import { runBatchInParent } from '../worker/run-in-parent.js';

export interface CopyPoolOptions {
  size: number;
  source: RawPath;
  /** Where entries are written: the destination, or the staging directory of a first copy. */
  destination: RawPath;
  settings: WorkerSettings;
  onJobDone: (job: Job, result: JobResult) => void;
  /** After the jobs of one confirmation were reported: the moment to submit what they released, as one batch. */
  onConfirmation: () => void;
  onFileProgress: (job: Job, bytes: number) => void;
  /** Forks this script instead of worker.js, and never runs a batch in the parent; exists so tests can run a worker that crashes. */
  workerPath?: string;
}

export function copyPool({ source, destination, settings, workerPath, ...events }: CopyPoolOptions): WorkerPool {
  // Where relative roots lead: workers work from inside destination directories.
  const cwd = rawFromString(process.cwd());
  return new WorkerPool({
    ...events,
    source,
    workerPath,
    copyMessage: (batchId, jobs) => ({ type: 'copy', batchId, source, destination, cwd, settings, jobs }),
    // Not in a worker thread, where a batch could not set the umask it creates files with (no process.umask there).
    runInParent: workerPath === undefined && isMainThread ? runBatchInParent : undefined,
    remote: onNetworkFileSystem(fsPath(destination)),
    onWorkerLost: (jobs, pid) => sweepDeadWorkerFiles({ destination, staged: settings.staged, pid, jobs }),
  });
}
